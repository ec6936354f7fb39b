"""Reads for orders: querysets and shapes for pages and the API."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Field, Model, Prefetch, Q, QuerySet
from django.utils import timezone

from catalog.models import Item
from oms.models import OutboxEvent
from oms.roles import Role
from oms.text_search import text_match
from orders.choices import OrderStatus
from orders.models import Order, OrderLine, OrderRevision, Project, SavedView
from warehouse.ledger.models import Return, ReturnLine

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def status_counts() -> list[tuple[OrderStatus, int]]:
    """Every status with its number of orders, in lifecycle order."""
    counts = dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by())
    return [(status, counts.get(status.value, 0)) for status in OrderStatus]


# --- Lists and details ------------------------------------------------------------------


def order_list() -> QuerySet[Order]:
    """Orders for lists, newest change first (ties broken by id, so pages are stable)."""
    return Order.objects.select_related("project__market__region", "assignee").order_by(
        "-updated_at", "-id"
    )


def coordinators() -> QuerySet[User]:
    """The people orders can be assigned to: active users with the coordinator role,
    by username."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.COORDINATOR)
        .order_by("username")
        .distinct()
    )


def is_coordinator(user: User) -> bool:
    return user.groups.filter(name=Role.COORDINATOR).exists()


def person_name(user: User) -> str:
    """How a person is named on screens and in the history: full name, else username."""
    return user.get_full_name() or user.get_username()


# Text that matches more projects (or items) than this is searched with a subquery
# instead of a list of ids (a long list would be sent, and planned, with every query of
# the page).
PROJECT_IDS_LISTED = 1000
ITEM_IDS_LISTED = 1000


def orders_matching_text(orders: QuerySet[Order], text: str) -> QuerySet[Order]:
    """The orders that match the text (see text_condition)."""
    return orders.filter(text_condition(text))


def text_condition(text: str) -> Q:
    """Orders whose number, project ID, site code or site name holds the text, or with
    a line whose item code or description holds it, in any case (text shorter than
    oms.text_search.TRIGRAM_MIN_LENGTH matches the start of those values). The projects
    and items are read now; the condition holds their ids.

    The projects and items are looked up first, in their own small tables (trigram
    indexes on PostgreSQL), so that the orders are searched on their own columns: the
    number (a trigram index), one of the matching project ids (the stream index), or an
    order id among the lines of the matching items (the lines' item index), instead of
    an OR across the joined tables."""
    # Unordered, so that PostgreSQL reads the trigram indexes rather than walk the
    # tables' ordering indexes for the first matches.
    projects = (
        Project.objects.filter(text_match(["external_id", "site_code", "name"], text))
        .order_by()
        .values_list("id", flat=True)
    )
    items = (
        Item.objects.filter(text_match(["code", "description"], text))
        .order_by()
        .values_list("id", flat=True)
    )
    condition = text_match(["number"], text)
    project_ids = list(projects[: PROJECT_IDS_LISTED + 1])
    if len(project_ids) > PROJECT_IDS_LISTED:
        condition |= Q(project_id__in=projects)
    elif project_ids:
        condition |= Q(project_id__in=project_ids)
    item_ids = list(items[: ITEM_IDS_LISTED + 1])
    if item_ids:
        lines = OrderLine.objects.filter(
            item_id__in=items if len(item_ids) > ITEM_IDS_LISTED else item_ids
        )
        condition |= Q(pk__in=lines.values("order_id"))
    return condition


def saved_views(user: User) -> QuerySet[SavedView]:
    """The person's saved views of the queue, by name."""
    return SavedView.objects.filter(owner=user).order_by("name", "pk")


def order_detail() -> QuerySet[Order]:
    """Orders with everything the detail page and endpoint show."""
    return Order.objects.select_related(
        "project__market__region", "parent", "assignee"
    ).prefetch_related(
        Prefetch(
            "lines",
            queryset=OrderLine.objects.select_related("item", "kit", "replaces_item").order_by(
                "item__code"
            ),
        ),
        Prefetch(
            "children",
            queryset=Order.objects.order_by("id").only(
                "id", "number", "status", "kind", "parent_id"
            ),
        ),
    )


# --- Exports ----------------------------------------------------------------------------

EXPORT_CHUNK = 2000

# (header, column): what the queue's export holds of each order.
_ORDER_EXPORT = [
    ("Order", "number"),
    ("Kind", "kind"),
    ("Status", "status"),
    ("Gated", "gated"),
    ("Gate reason", "gate_reason"),
    ("Reason", "reason_code"),
    ("Why", "reason_text"),
    ("Project", "project__external_id"),
    ("Site", "project__site_code"),
    ("Market", "project__market__code"),
    ("Region", "project__market__region__code"),
    ("Order type", "order_type"),
    ("Plan type", "plan_type"),
    ("Priority", "national_priority"),
    ("Need by", "need_by"),
    ("Revision", "revision"),
    ("Parent order", "parent__number"),
    ("Status since", "status_changed_at"),
    ("Updated", "updated_at"),
]
_TIMES = {"status_changed_at", "updated_at"}


def order_export_header() -> list[str]:
    return [
        f"{label} ({settings.TIME_ZONE})" if col in _TIMES else label
        for label, col in _ORDER_EXPORT
    ]


def _labels(model: type[Model], name: str) -> dict[Any, str]:
    """The labels of a choice field's values."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field), f"{name} is a field of {model.__name__}"
    return dict(field.flatchoices)


def order_export_rows(orders: QuerySet[Order]) -> Iterator[list[Any]]:
    """The rows of an export of `orders` (a filtered, ordered queryset), choices by their
    labels: one query, read EXPORT_CHUNK rows at a time."""
    columns = [column for _, column in _ORDER_EXPORT]
    labels = {
        column: _labels(Order, column)
        for column in ("kind", "status", "reason_code", "order_type", "plan_type")
    }
    positions = [(columns.index(c), choices) for c, choices in labels.items()]
    for values in orders.values_list(*columns).iterator(chunk_size=EXPORT_CHUNK):
        row = list(values)
        for position, choices in positions:
            row[position] = choices.get(row[position], row[position])
        yield row


def order_line_export_header() -> list[str]:
    return [
        "Order",
        "Item",
        "Description",
        "Unit",
        "Source",
        "Kit",
        "Replaces item",
        "Quantity",
        "Allocated",
        "Released",
        "Returned",
        "Outstanding",
    ]


def order_line_export_rows(order: Order) -> Iterator[tuple[Any, ...]]:
    """The order's lines for an export, by item code: one query."""
    sources = _labels(OrderLine, "source")
    units = _labels(Item, "unit")
    lines = (
        OrderLine.objects.filter(order_id=order.pk)
        .order_by("item__code", "id")
        .values_list(
            "item__code",
            "item__description",
            "item__unit",
            "source",
            "kit__code",
            "replaces_item__code",
            "quantity",
            "allocated_quantity",
            "released_quantity",
            "returned_quantity",
        )
    )
    for (
        code,
        description,
        unit,
        source,
        kit,
        replaces,
        quantity,
        allocated,
        released,
        returned,
    ) in lines.iterator(chunk_size=EXPORT_CHUNK):
        yield (
            order.number,
            code,
            description,
            units.get(unit, unit),
            sources.get(source, source),
            kit,
            replaces,
            quantity,
            allocated,
            released,
            returned,
            OrderLine.outstanding(quantity, released, returned),
        )


def order_revisions(order: Order) -> QuerySet[OrderRevision]:
    return order.revisions.order_by("-number")


# The jeopardy rule: an open order is at risk when it has been longer in its status than
# that status's limit (OMS_STATUS_LIMIT_DAYS), or when it is needed within
# OMS_NEED_BY_RISK_DAYS (or was needed already) and is still in one of these statuses.
NEED_BY_RISK_STATUSES = (OrderStatus.DRAFT, OrderStatus.APPROVED, OrderStatus.ALLOCATED)


def jeopardy_condition(today: datetime.date) -> Q:
    """The jeopardy rule as a filter."""
    now = timezone.now()
    overdue = Q()
    for status, days in settings.OMS_STATUS_LIMIT_DAYS.items():
        overdue |= Q(status=status, status_changed_at__lt=now - datetime.timedelta(days=days))
    soon = today + datetime.timedelta(days=settings.OMS_NEED_BY_RISK_DAYS)
    need_by_risk = Q(status__in=NEED_BY_RISK_STATUSES, need_by__lte=soon)
    return overdue | need_by_risk


def jeopardy_reasons(order: Order, today: datetime.date) -> list[str]:
    """Why the jeopardy rule holds for this order, in a coordinator's words (none when it
    does not): which limit, by how many days, or how close or past its need-by date."""
    reasons = []
    limit = settings.OMS_STATUS_LIMIT_DAYS.get(order.status)
    in_status = timezone.now() - order.status_changed_at
    if limit is not None and in_status > datetime.timedelta(days=limit):
        over = in_status.days - limit
        reasons.append(
            f"In {order.get_status_display()} for {in_status.days} days, over its {limit}-day "
            f"limit{f' by {over} days' if over > 0 else ''}."
        )
    soon = today + datetime.timedelta(days=settings.OMS_NEED_BY_RISK_DAYS)
    if order.status in NEED_BY_RISK_STATUSES and order.need_by <= soon:
        days = (order.need_by - today).days
        when = (
            f"passed {-days} days ago"
            if days < 0
            else "today"
            if days == 0
            else f"in {days} days (orders needed within "
            f"{settings.OMS_NEED_BY_RISK_DAYS} days are at risk)"
        )
        reasons.append(f"Needed by {order.need_by:%Y-%m-%d}: {when}, and not released yet.")
    return reasons


# The lifecycle as the order page draws it: the main path, and where an order leaves it.
MAIN_PATH = (
    OrderStatus.DRAFT,
    OrderStatus.APPROVED,
    OrderStatus.ALLOCATED,
    OrderStatus.RELEASED,
    OrderStatus.CLOSED,
)


@dataclass(frozen=True)
class Step:
    status: OrderStatus
    state: str  # done, current, later, or off (not taken: the order left the main path)


@dataclass(frozen=True)
class Tracking:
    """Where an order is: its lifecycle steps, how long it has been in its status against
    the status's limit, and why it is in jeopardy, if it is."""

    steps: tuple[Step, ...]
    in_status_days: float
    limit_days: int | None
    risks: tuple[str, ...]


def order_tracking(order: Order, today: datetime.date) -> Tracking:
    status = OrderStatus(order.status)
    if status in MAIN_PATH:
        at = MAIN_PATH.index(status)
        steps = [
            Step(s, "done" if n < at else "current" if n == at else "later")
            for n, s in enumerate(MAIN_PATH)
        ]
    elif status == OrderStatus.CANCELLED:
        steps = [Step(s, "off") for s in MAIN_PATH] + [Step(status, "current")]
    else:  # returned after closing
        steps = [Step(s, "done") for s in MAIN_PATH] + [Step(status, "current")]
    in_status = timezone.now() - order.status_changed_at
    return Tracking(
        steps=tuple(steps),
        in_status_days=round(in_status.total_seconds() / 86400, 1),
        limit_days=settings.OMS_STATUS_LIMIT_DAYS.get(order.status),
        risks=tuple(jeopardy_reasons(order, today)),
    )


def jeopardy(today: datetime.date) -> QuerySet[Order]:
    """Orders in jeopardy, most urgent first."""
    return (
        Order.objects.filter(jeopardy_condition(today))
        .select_related("project")
        .order_by("need_by", "national_priority", "id")
    )


# --- Flow -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusFlow:
    status: OrderStatus
    entered: list[int]  # per day, oldest first
    left: list[int]
    median_days: float | None  # time spent in the status by the orders that left it

    @property
    def net(self) -> int:
        return sum(self.entered) - sum(self.left)


def order_flow(days: int = 30) -> list[StatusFlow]:
    """Orders entering and leaving each status per day over the last `days` days, read
    from the outbox (every creation and transition writes one event)."""
    from statistics import median

    start = timezone.now() - datetime.timedelta(days=days)
    first_day = timezone.localdate(start)
    rows = (
        OutboxEvent.objects.filter(aggregate_type="order", created_at__gte=start)
        .filter(Q(event_type="order.created") | Q(payload__has_key="to"))
        .order_by("aggregate_id", "created_at", "id")
        .values_list("aggregate_id", "event_type", "payload__from", "payload__to", "created_at")
    )
    entered = {s: [0] * (days + 1) for s in OrderStatus}
    left = {s: [0] * (days + 1) for s in OrderStatus}
    spent: dict[str, list[float]] = {s: [] for s in OrderStatus}
    since: dict[str, tuple[str, datetime.datetime]] = {}
    for order_id, event_type, source, target, when in rows:
        day = min((timezone.localdate(when) - first_day).days, days)
        if event_type == "order.created":
            source, target = None, OrderStatus.DRAFT
        if source in left:
            left[source][day] += 1
            entered_at = since.get(order_id)
            if entered_at and entered_at[0] == source:
                spent[source].append((when - entered_at[1]).total_seconds() / 86400)
        if target in entered:
            entered[target][day] += 1
            since[order_id] = (target, when)
    return [
        StatusFlow(
            status=s,
            entered=entered[s],
            left=left[s],
            median_days=round(median(spent[s]), 1) if spent[s] else None,
        )
        for s in OrderStatus
    ]


# --- Returns ----------------------------------------------------------------------------

RETURNED_STATUSES = [OrderStatus.PARTIALLY_RETURNED, OrderStatus.FULLY_RETURNED]


def _returns_with_lines() -> QuerySet[Return]:
    return Return.objects.select_related(
        "warehouse", "replacement_order", "resolved_by"
    ).prefetch_related(
        Prefetch(
            "lines",
            queryset=ReturnLine.objects.select_related("order_line__item").order_by("pk"),
        )
    )


def orders_with_returns() -> QuerySet[Order]:
    """Orders with their returns (newest first) and return lines."""
    return Order.objects.select_related("project__market").prefetch_related(
        Prefetch("returns", queryset=_returns_with_lines().order_by("-created_at", "-id"))
    )


def returned_orders() -> QuerySet[Order]:
    """Orders waiting in the returns queue, longest waiting first, with their returns
    and return lines: four queries for a page, whatever its size."""
    return (
        orders_with_returns()
        .filter(status__in=RETURNED_STATUSES)
        .order_by("status_changed_at", "id")
    )


def resolved_returns() -> QuerySet[Return]:
    """Returns a coordinator resolved, most recent first."""
    return (
        _returns_with_lines()
        .exclude(resolution="")
        .select_related("order")
        .order_by("-resolved_at", "-id")
    )
