"""Saved views: a person's named filters of the order queue.

A view holds the queue's query string, checked by the queue's filter and written in one
order (so the same filters make the same string), without the page. Only its owner
saves, renames, deletes it or makes it their default; at most one view of a person is
the default (a database constraint), the one the queue opens with."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.http import QueryDict

from oms.errors import ActionForbidden, Problem, ValidationFailed
from orders.filters import QueueFilter
from orders.forms import SORTS
from orders.models import Order, SavedView

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# What a view keeps besides the filters: how the orders are sorted.
KEPT = ("sort",)


def normalized_query(query: str, *, owner: User) -> str:
    """The query string with the queue's filters, sort and page size in the form's order,
    each choice list in its choices' order, empty values and the page left out. A value
    the queue would refuse is a ValidationFailed naming its field."""
    data = QueryDict(query)
    orders = QueueFilter(data, queryset=Order.objects.none(), request=SimpleNamespace(user=owner))
    problems = [
        Problem(code="invalid", field=name, message=f"{name}: {' '.join(errors)}")
        for name, errors in orders.errors.items()
    ]
    sort = data.get("sort", "")
    if sort and sort not in SORTS:
        message = f"sort: sort by one of {', '.join(SORTS)}."
        problems.append(Problem(code="invalid", field="sort", message=message))
    if problems:
        raise ValidationFailed("These filters cannot be saved.", problems=problems)
    normal = QueryDict(mutable=True)
    for name, field in orders.form.fields.items():
        values = [v for v in dict.fromkeys(data.getlist(name)) if v.strip()]
        if hasattr(field, "choices") and len(values) > 1:
            order = [str(key) for key, _ in field.choices]
            values.sort(key=lambda v: order.index(v) if v in order else len(order))
        if values:
            normal.setlist(name, values)
    for name in KEPT:
        if data.get(name):
            normal[name] = data[name]
    return normal.urlencode()


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if "\x00" in name:
        problem = Problem(code="invalid", field="name", message="A name holds no NUL character.")
        raise ValidationFailed("The name is not text.", problems=[problem])
    if not name:
        problem = Problem(code="required", field="name", message="Name the view.")
        raise ValidationFailed("The view has no name.", problems=[problem])
    if len(name) > SavedView.NAME_LENGTH:
        problem = Problem(
            code="too_long",
            field="name",
            message=f"A view's name holds at most {SavedView.NAME_LENGTH} characters.",
        )
        raise ValidationFailed("The name is too long.", problems=[problem])
    return name


def _check_owner(view: SavedView, owner: User) -> None:
    if view.owner_id != owner.pk:
        raise ActionForbidden("Only the person who saved a view changes it.")


def saved_view_save(*, owner: User, name: str, query: str, is_default: bool = False) -> SavedView:
    """Save the queue's filters under a name. A view of that name the person already
    has takes the new filters (and becomes the default if asked)."""
    name = _clean_name(name)
    query = normalized_query(query, owner=owner)
    if len(query) > SavedView.QUERY_LENGTH:
        problem = Problem(code="too_long", field="query", message="These filters are too long.")
        raise ValidationFailed("The filters are too long to save.", problems=[problem])
    with transaction.atomic():
        view, _ = SavedView.objects.select_for_update().get_or_create(
            owner=owner, name=name, defaults={"query": query}
        )
        view.query = query
        view.save(update_fields=["query", "updated_at"])
        if is_default:
            saved_view_set_default(view=view, owner=owner, default=True)
    return view


def saved_view_rename(*, view: SavedView, owner: User, name: str) -> SavedView:
    _check_owner(view, owner)
    name = _clean_name(name)
    if name == view.name:
        return view
    if SavedView.objects.filter(owner=owner, name=name).exists():
        problem = Problem(
            code="taken", field="name", message=f"You have a view named {name} already."
        )
        raise ValidationFailed("The name is taken.", problems=[problem])
    view.name = name
    try:
        with transaction.atomic():
            view.save(update_fields=["name", "updated_at"])
    except IntegrityError:  # saved under that name meanwhile
        problem = Problem(
            code="taken", field="name", message=f"You have a view named {name} already."
        )
        raise ValidationFailed("The name is taken.", problems=[problem]) from None
    return view


def saved_view_set_default(*, view: SavedView, owner: User, default: bool) -> SavedView:
    """Make the view the person's default (the one before it no longer is), or make it
    no longer the default (then the queue opens with every order)."""
    _check_owner(view, owner)
    with transaction.atomic():
        # The person's views are locked in one order, so two of their requests at once
        # wait for each other instead of breaking the one-default constraint.
        list(SavedView.objects.select_for_update().filter(owner=owner).order_by("pk"))
        if default:
            SavedView.objects.filter(owner=owner, is_default=True).exclude(pk=view.pk).update(
                is_default=False
            )
        view.is_default = default
        view.save(update_fields=["is_default", "updated_at"])
    return view


def saved_view_delete(*, view: SavedView, owner: User) -> None:
    _check_owner(view, owner)
    view.delete()
