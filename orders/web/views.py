"""The back office for orders: the queue, an order's page, its transitions and line
edits. Views validate input and call one service; htmx requests get the fragment,
other requests the whole page."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import condition, require_GET, require_POST

from allocation.selectors import latest_outcome
from catalog.filters import ItemFilter
from oms import exports
from oms.actors import Actor
from oms.errors import DomainError, StaleVersion
from oms.pages import render_page
from oms.paginators import FirstPartPaginator, IdsFirstPaginator
from orders import bulk as bulk_report
from orders import ingestion, selectors, services
from orders.choices import OrderStatus
from orders.event_words import in_field_order
from orders.filters import PAGE_SIZES, QueueFilter
from orders.forms import (
    MINE_FIRST,
    SORTS,
    AssignForm,
    BulkForm,
    HeaderForm,
    LinesForm,
    NoteForm,
    PayloadForm,
    ReasonForm,
    ReplacementForm,
    ReturnResolutionForm,
    SavedViewChangeForm,
    SavedViewForm,
    TimelineFilterForm,
    default_sort,
    mine_first,
    queue_ordering,
)
from orders.models import DesignEvent, Order, SavedView
from orders.services import saved_views as saved_views_service
from orders.web import live
from orders.web.timeline import order_timeline, timeline_actions
from warehouse.integration.delivery import order_delivery, release_delivery
from warehouse.integration.dispatch import release_resend
from warehouse.integration.models import Release
from warehouse.integration.releases import release_order
from warehouse.integration.selectors import (
    open_releases,
    open_releases_prefetch,
    order_releases,
)
from warehouse.ledger.models import Return

PAGE_SIZE = 50


@dataclass(frozen=True)
class Action:
    name: str  # the transition
    label: str
    service: object
    done: str  # what happened to an order it was applied to: "approved"
    needs_reason: bool = False
    style: str = ""


ACTIONS = {
    a.name: a
    for a in [
        Action("approve", "Approve", services.order_approve, "approved", style="primary"),
        Action("release", "Release to warehouse", release_order, "released"),
        Action("resolve_close", "Close the return", services.order_resolve_close, "closed"),
        Action("reject", "Reject to draft", services.order_reject, "rejected", needs_reason=True),
        Action("reopen", "Reopen to draft", services.order_reopen, "reopened", needs_reason=True),
        Action(
            "cancel",
            "Cancel",
            services.order_cancel,
            "cancelled",
            needs_reason=True,
            style="danger",
        ),
    ]
}

# Why the approve button is disabled for the person who edited the lines.
FOUR_EYES_HINT = (
    "You edited the lines, need-by date or priority; another coordinator approves this order."
)


def queue_rows():
    """Orders for the queue: the order list with each order's open releases, whose
    delivery the queue shows (one more query per page)."""
    return selectors.order_list().prefetch_related(open_releases_prefetch())


def allowed_actions(order: Order, actor: Actor) -> list[Action]:
    """The transitions this person may make on the order now."""
    return [ACTIONS[name] for name in services.allowed_transitions(order, actor)]


# --- The queue --------------------------------------------------------------------------


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def queue(request):
    """The order queue. Opened with no query string, it shows the person's default view
    if they have one (`?view=all` shows every order)."""
    # The mark first: a change made while the rows are read shows at the next poll.
    live_etag = live.queue_etag(request)
    saved = None if request.htmx else list(selectors.saved_views(request.user))
    data, default_view = request.GET, None
    if not request.GET:
        default_view = (
            next((v for v in saved if v.is_default), None)
            if saved is not None
            else selectors.saved_views(request.user).filter(is_default=True).first()
        )
        if default_view is not None:
            data = QueryDict(default_view.query)
    orders, sort, ordering = _queue_filter(request, data)
    per_page = orders.page_size() or PAGE_SIZE
    first = mine_first(sort if sort in SORTS else default_sort(request.user), request.user)
    if first is None:
        paginator = IdsFirstPaginator(orders.qs.order_by(*ordering), per_page, rows=queue_rows())
    else:  # the person's orders, then the others, each by last change
        paginator = FirstPartPaginator(
            orders.qs.order_by(*SORTS[MINE_FIRST][1]),
            per_page,
            rows=queue_rows(),
            first=first,
        )
    tabs = _status_tabs(orders, data)
    # The tabs' counts hold the page's: it is not counted again.
    paginator.count = sum(tab.count for tab in tabs[1:] if tab.selected or tabs[0].current)
    page = paginator.get_page(data.get("page"))
    page.object_list = list(page.object_list)
    for order in page.object_list:
        order.delivery = order_delivery(order.open_releases)
    query = data.copy()
    for name in ("page", "view"):
        query.pop(name, None)
    context = {
        "filter": orders,
        "page": page,
        "sort": sort,
        "sorts": SORTS,
        "per_page": per_page,
        "page_sizes": PAGE_SIZES,
        "query": query.urlencode(),
        "tabs": tabs,
        "chips": orders.chips(),
        "clear_url": f"{reverse('orders:queue')}?view=all",
        "default_view": default_view,
        "saved_views": saved,
        **exports.export_urls("orders:export_csv", "orders:export_xlsx", query),
        "can_bulk": any(
            request.user.has_perm(services.transition_permission(name))
            for name, _ in BulkForm.ACTIONS
        ),
        "reason_form": ReasonForm(),
        **_live_context(live_etag),
    }
    response = render_page(
        request, "orders/queue.html", "orders/partials/queue_results.html", context
    )
    response["ETag"] = live_etag
    return response


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
@condition(etag_func=lambda request: live.queue_etag(request))
def queue_live(request):
    """The queue's results for the same query string, asked for every few seconds by the
    queue page: 304 Not Modified while no order and no release changed (one query)."""
    return queue(request)


def _live_context(etag: str) -> dict:
    return {
        "live_etag": etag,
        "live_every_ms": int(settings.OMS_LIVE_POLL_SECONDS * 1000),
        "live_max_ms": int(settings.OMS_LIVE_POLL_MAX_SECONDS * 1000),
    }


@dataclass(frozen=True)
class StatusTab:
    status: str  # "" for every status
    label: str
    count: int
    query: str  # the queue's query string with this status (and no page)
    current: bool  # the status filter is this tab's, exactly
    selected: bool  # the status filter holds this tab's status


def _status_tabs(orders: QueueFilter, data) -> list[StatusTab]:
    """All, then one tab per status, each with the number of orders the other filters
    let through in that status (one query for all of them)."""
    counts = orders.status_counts()
    chosen = [str(s) for s in orders.form.cleaned_data.get("status") or []]
    base = data.copy()
    for name in ("page", "view", "status"):
        base.pop(name, None)
    tabs = [
        StatusTab(
            "", "All", sum(counts.values()), base.urlencode() or "view=all", not chosen, False
        )
    ]
    for status in OrderStatus:
        query = base.copy()
        query["status"] = status.value
        tabs.append(
            StatusTab(
                status.value,
                status.label,
                counts.get(status.value, 0),
                query.urlencode(),
                chosen == [status.value],
                status.value in chosen,
            )
        )
    return tabs


def _queue_filter(request, data=None) -> tuple[QueueFilter, str, tuple]:
    """The queue's filter, sort key and ordering as the query string (or `data`) asks
    (an unknown sort is the default one)."""
    data = request.GET if data is None else data
    orders = QueueFilter(data, queryset=Order.objects.all(), request=request)
    default = default_sort(request.user)
    sort = data.get("sort") or default
    return orders, sort, queue_ordering(sort if sort in SORTS else default, request.user)


# --- Saved views ------------------------------------------------------------------------


def _queue_url(query: str) -> str:
    """The queue with this query string; with none, every order (not the default view)."""
    return f"{reverse('orders:queue')}?{query or 'view=all'}"


@login_required
@permission_required("orders.view_order", raise_exception=True)
def saved_views(request):
    """The person's saved views (GET), or save the queue's current filters (POST): a
    view of the same name takes the new filters."""
    form = SavedViewForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                view = saved_views_service.saved_view_save(
                    owner=request.user,
                    name=form.cleaned_data["name"],
                    query=form.cleaned_data["query"],
                    is_default=form.cleaned_data["is_default"],
                )
            except DomainError as exc:
                messages.error(request, _problems_text(exc))
                return redirect(_queue_url(form.cleaned_data["query"]))
            messages.success(request, f"Saved the view {view.name}.")
            return redirect(_queue_url(view.query))
        messages.error(request, _form_errors_text(form))
        return redirect(_queue_url(""))
    views = list(selectors.saved_views(request.user))
    for view in views:
        view.url = _queue_url(view.query)
        view.link = request.build_absolute_uri(view.url)
        view.chips = QueueFilter(
            QueryDict(view.query), queryset=Order.objects.none(), request=request
        ).chips()
    return render(request, "orders/saved_views.html", {"views": views})


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_POST
def saved_view_change(request, pk):
    """Rename, make default (or not), or delete one of the person's saved views. Another
    person's view is not found."""
    view = get_object_or_404(SavedView, pk=pk, owner=request.user)
    form = SavedViewChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors_text(form))
        return redirect("orders:saved_views")
    action, name = form.cleaned_data["action"], form.cleaned_data["name"]
    try:
        if action == "rename":
            old = view.name
            saved_views_service.saved_view_rename(view=view, owner=request.user, name=name)
            messages.success(request, f"Renamed the view {old} to {view.name}.")
        elif action == "delete":
            saved_views_service.saved_view_delete(view=view, owner=request.user)
            messages.success(request, f"Deleted the view {view.name}.")
        else:
            default = action == "default"
            saved_views_service.saved_view_set_default(
                view=view, owner=request.user, default=default
            )
            messages.success(
                request,
                f"The queue opens with {view.name}."
                if default
                else f"{view.name} is no longer your default: the queue opens with every order.",
            )
    except DomainError as exc:
        messages.error(request, _problems_text(exc))
    return redirect("orders:saved_views")


def _problems_text(exc: DomainError) -> str:
    return " ".join(p.message for p in exc.problems) or exc.message


def _form_errors_text(form) -> str:
    return " ".join(
        f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
        for name, errors in form.errors.items()
    )


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def queue_export(request, fmt):
    """Every order the queue shows with these filters, search and sort (all pages), as
    a CSV or Excel file named after the filters. A filter value OMS does not accept is
    a 400 naming it, and nothing is exported."""
    orders, sort, ordering = _queue_filter(request)
    errors = dict(orders.errors)
    if sort not in SORTS:
        errors["sort"] = [f"Sort by one of: {', '.join(SORTS)}."]
    if errors:
        back = f"{reverse('orders:queue')}?{request.GET.urlencode()}"
        return exports.refused(request, errors, back=back)
    return exports.export_response(
        fmt,
        "orders",
        selectors.order_export_header(),
        selectors.order_export_rows(orders.qs.order_by(*ordering)),
        query=request.GET,
        names=[name for name in orders.form.fields if name != "per_page"],
    )


@login_required
@require_POST
def bulk(request):
    """Approve, release, reject or cancel many orders, each in its own transaction. The
    answer says how many were done and why each other one was not; an htmx request also
    gets the selected rows again, with their new status, the failed ones still selected."""
    form = BulkForm(request.POST)
    report, rows = None, []
    if form.is_valid():
        action = ACTIONS[form.cleaned_data["action"]]
        if not request.user.has_perm(services.transition_permission(action.name)):
            raise PermissionDenied
        report = _bulk_apply(form, action, Actor.person(request.user))
        if request.htmx:
            failed = {o.number for o in report.failures}
            rows = list(queue_rows().filter(number__in=form.numbers))
            for row in rows:
                row.selected = row.number in failed
                row.delivery = order_delivery(row.open_releases)
    context = {"form": form, "report": report, "rows": rows, "can_bulk": True}
    return render_page(request, "orders/bulk.html", "orders/partials/bulk_results.html", context)


def _bulk_apply(form: BulkForm, action: Action, actor: Actor) -> bulk_report.BulkReport:
    report = bulk_report.BulkReport(action.done)
    for value in form.refused:
        report.add(value, "this is not an order number", known=False)
    kwargs = {}
    if action.needs_reason:
        kwargs = {
            "reason_code": form.cleaned_data["reason_code"],
            "reason_text": form.cleaned_data["reason_text"],
        }
    orders = {o.number: o for o in Order.objects.filter(number__in=form.numbers)}
    for number in form.numbers:
        order = orders.get(number)
        if order is None:
            report.add(number, "there is no such order", known=False)
            continue
        try:
            action.service(order=order, actor=actor, **kwargs)
        except DomainError as exc:
            report.add(number, bulk_report.refusal(exc, order, action.name, action.done))
        else:
            notices = _release_notices(order) if action.name == "release" else []
            report.add(number, note=" ".join(text for _, text in notices))
    return report


# --- One order --------------------------------------------------------------------------


def _reason_form(action: Action, data=None) -> ReasonForm:
    """The reason form of one action; its ids are the action's, so the forms of several
    actions on one page do not share ids."""
    return ReasonForm(data, auto_id=f"id_{action.name}_%s")


def _order_context(
    request,
    order: Order,
    *,
    sent: dict[str, ReasonForm] | None = None,
    note_form: NoteForm | None = None,
    header_form: HeaderForm | None = None,
) -> dict:
    """The order page. `sent` holds, by action, a reason form that was sent without
    what it needs; it is shown open, with its errors next to its fields (and so does
    `note_form` for a note, and `header_form` for the need-by date and priority)."""
    actor = Actor.person(request.user)
    sent = sent or {}
    actions = [
        (
            action,
            (sent.get(action.name) or _reason_form(action)) if action.needs_reason else None,
            _refusal_before_click(action, order, actor),
        )
        for action in allowed_actions(order, actor)
    ]
    show_outcome = order.status == "approved" and actor.has_perm("allocation.view_allocationrun")
    releases = order_releases(order)
    return {
        "allocation_outcome": latest_outcome(order) if show_outcome else None,
        "order": order,
        "actions": actions,
        "moves": [action.label for action, _, refusal in actions if not refusal],
        "can_edit": order.status == "draft" and actor.has_perm("orders.enrich_order"),
        "header_form": header_form or _header_form(order),
        **_timeline_context(order, request.GET),
        "tracking": selectors.order_tracking(order, timezone.localdate()),
        "releases": releases,
        "release_delivery": order_delivery(view.release for view in releases),
        "can_release": actor.has_perm("orders.release_order"),
        "revisions": selectors.order_revisions(order),
        **_notes_context(order, actor, note_form),
        **_assignee_context(actor),
        **_live_context(live.order_etag(request, order.number)),
    }


def _assignee_context(actor: Actor, form: AssignForm | None = None) -> dict:
    return {
        "assign_form": form or AssignForm(),
        "can_assign": actor.has_perm("orders.enrich_order"),
    }


def _timeline_context(order: Order, params) -> dict:
    """The order's timeline as actions, with the entries the filter in `params` asks
    for (all when it asks for nothing it knows)."""
    form = TimelineFilterForm(params, auto_id="id_timeline_%s")
    wanted = form.cleaned_data if form.is_valid() else {}
    entries = order_timeline(order)
    return {
        "timeline": timeline_actions(
            entries, actor_kind=wanted.get("actor", ""), kind=wanted.get("change", "")
        ),
        "timeline_latest": next(iter(timeline_actions(entries[:50])), None),
        "timeline_form": form,
        "timeline_filtered": bool(wanted.get("actor") or wanted.get("change")),
    }


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def timeline(request, number):
    """The timeline card alone (htmx), filtered as asked; a filter value OMS does not
    know is a 400 naming it."""
    order = get_object_or_404(Order, number=number)
    context = {"order": order, **_timeline_context(order, request.GET)}
    status = 400 if context["timeline_form"].errors else 200
    return render(request, "orders/partials/timeline.html", context, status=status)


def _refusal_before_click(action: Action, order: Order, actor: Actor) -> str:
    """Why this person cannot take an action the order's status allows, when it can be
    told before the click: the service's own rule, asked here."""
    if action.name == "approve" and services.four_eyes_forbid(order, actor):
        return FOUR_EYES_HINT
    return ""


def _notes_context(order: Order, actor: Actor, note_form: NoteForm | None = None) -> dict:
    return {
        "notes": order.notes.all(),
        "note_form": note_form or NoteForm(),
        "can_note": actor.has_perm("orders.enrich_order"),
    }


def _get_order(number: str) -> Order:
    try:
        return selectors.order_detail().get(number=number)
    except Order.DoesNotExist:
        raise Http404(f"No order {number}.") from None


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def detail(request, number):
    # The mark first: a change made while the page is read shows at the next poll.
    live.order_etag(request, number)
    return render(request, "orders/detail.html", _order_context(request, _get_order(number)))


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
@condition(etag_func=lambda request, number: live.order_etag(request, number))
def order_live(request, number):
    """The order page's content, asked for every few seconds by the page: 304 Not
    Modified while the order, its lines, releases and notes are as they were (one
    query). The timeline is filtered as the query string asks, as on the page."""
    order = _get_order(number)
    return render(request, "orders/partials/order_live.html", _order_context(request, order))


@login_required
@require_POST
def transition(request, number, name):
    action = ACTIONS.get(name)
    if action is None:
        raise Http404
    if not request.user.has_perm(services.transition_permission(action.name)):
        raise PermissionDenied
    kwargs = {}
    if action.needs_reason:
        form = _reason_form(action, request.POST)
        if not form.is_valid():
            context = _order_context(request, _get_order(number), sent={action.name: form})
            return render(request, "orders/detail.html", context, status=400)
        kwargs = form.cleaned_data
    order = get_object_or_404(Order, number=number)
    try:
        action.service(
            order=order,
            actor=Actor.person(request.user),
            expected_version=_version_sent(request),
            **kwargs,
        )
    except StaleVersion:
        messages.error(request, f"{action.label}: {_changed_since_opened(order)}")
    except DomainError as exc:
        messages.error(request, f"{action.label}: {exc}")
    else:
        if action.name == "release":
            for level, text in _release_notices(order):
                getattr(messages, level)(request, text)
        else:
            messages.success(request, f"{action.label}: done.")
    return redirect("orders:detail", number=number)


def _release_notices(order: Order) -> list[tuple[str, str]]:
    """What came of a release that just committed (its requests are sent once it has,
    at once when tasks run in-process): (message level, words) per warehouse."""
    releases = open_releases(order)
    if not releases:
        return [("success", "Released.")]
    return [release_delivery(release).notice for release in releases]


def _header_form(order: Order, data=None) -> HeaderForm:
    initial = {
        "version": order.version,
        "need_by": order.need_by,
        "national_priority": order.national_priority,
    }
    return HeaderForm(data, initial=initial, auto_id="id_header_%s")


@login_required
@require_POST
def edit_header(request, number):
    """Change a draft's need-by date or priority, with a reason. What is refused is
    shown next to its field, the form open, on the order's page."""
    order = _get_order(number)
    actor = Actor.person(request.user)
    if not actor.has_perm("orders.enrich_order"):
        raise PermissionDenied
    form = _header_form(order, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.order_edit_header(
                order=order,
                actor=actor,
                need_by=data["need_by"],
                national_priority=data["national_priority"],
                reason=data["reason"],
                expected_version=data["version"],
            )
        except StaleVersion as exc:
            messages.error(request, f"Not saved. {exc}")
            return redirect("orders:detail", number=number)
        except DomainError as exc:
            for problem in exc.problems or []:
                known = problem.field in {"need_by", "national_priority", "reason"}
                form.add_error(problem.field if known else None, problem.message)
            if not exc.problems:
                form.add_error(None, exc.message)
        else:
            if changed.version == order.version:
                messages.info(
                    request, "Nothing changed: the need-by date and priority are as they were."
                )
            else:
                messages.success(request, "Need-by date and priority saved.")
            return redirect("orders:detail", number=number)
    context = _order_context(request, order, header_form=form)
    return render(request, "orders/detail.html", context, status=400)


@login_required
@require_POST
def add_note(request, number):
    """Add a note. htmx gets the notes card and the timeline; others the page again."""
    order = _get_order(number)
    actor = Actor.person(request.user)
    if not actor.has_perm("orders.enrich_order"):
        raise PermissionDenied
    form = NoteForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            services.order_add_note(order=order, actor=actor, text=form.cleaned_data["text"])
            saved = True
        except DomainError as exc:
            for problem in exc.problems:
                form.add_error("text" if problem.field == "text" else None, problem.message)
    if request.htmx:
        context = {
            "order": order,
            **_notes_context(order, actor, None if saved else form),
            "note_saved": saved,
            **_timeline_context(order, {}),
        }
        return render(request, "orders/partials/notes_added.html", context)
    if saved:
        messages.success(request, "Note added.")
        return redirect("orders:detail", number=number)
    context = _order_context(request, order, note_form=form)
    return render(request, "orders/detail.html", context, status=400)


@login_required
@require_POST
def assign(request, number):
    """Assign the order to a coordinator (the person themself or another), or to
    nobody. A choice OMS does not accept shows the page again with why, as a 400."""
    actor = Actor.person(request.user)
    if not actor.has_perm("orders.enrich_order"):
        raise PermissionDenied
    form = AssignForm(request.POST)
    if not form.is_valid():
        order = _get_order(number)
        context = {**_order_context(request, order), **_assignee_context(actor, form)}
        return render(request, "orders/detail.html", context, status=400)
    order = get_object_or_404(Order, number=number)
    try:
        order = services.order_assign(
            order=order,
            assignee=form.cleaned_data["assignee"],
            actor=actor,
            expected_version=form.cleaned_data["version"],
        )
    except StaleVersion:
        messages.error(request, f"Assign: {_changed_since_opened(order)}")
    except DomainError as exc:
        messages.error(request, f"Assign: {exc}")
    else:
        if order.assignee is None:
            messages.success(request, f"{order.number} is assigned to nobody now.")
        else:
            name = selectors.person_name(order.assignee)
            messages.success(request, f"{order.number} is assigned to {name}.")
    return redirect("orders:detail", number=number)


@login_required
@require_POST
def resend_release(request, number, release_id):
    """Send again a release request OMS stopped retrying."""
    release = get_object_or_404(Release, release_id=release_id, order__number=number)
    try:
        release_resend(release=release, actor=Actor.person(request.user))
    except DomainError as exc:
        messages.error(request, f"Send again: {exc}")
    else:
        release.refresh_from_db()
        level, text = release_delivery(release).notice
        getattr(messages, level)(request, text)
    return redirect("orders:detail", number=number)


def _version_sent(request) -> int | frozenset[int] | None:
    """The version of the order the page showed (its forms' hidden `version` field), for
    the service to check; None when the form sent none. A value that is no version
    matches none."""
    sent = request.POST.get("version")
    if sent is None:
        return None
    return int(sent) if sent.isascii() and sent.isdigit() else frozenset()


def _changed_since_opened(order: Order) -> str:
    return (
        f"Order {order.number} changed since you opened it. The page now shows the "
        "latest data; check it and try again."
    )


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def lines_export(request, number, fmt):
    """The order's lines, as its page shows them, as a CSV or Excel file."""
    order = get_object_or_404(Order.objects.only("id", "number"), number=number)
    return exports.export_response(
        fmt,
        f"order_{order.number}_lines",
        selectors.order_line_export_header(),
        selectors.order_line_export_rows(order),
    )


@login_required
def lines(request, number):
    """Edit a draft's lines. Someone else's change in the meantime is never overwritten:
    the save is refused and the fresh data shown."""
    order = _get_order(number)
    actor = Actor.person(request.user)
    if not actor.has_perm("orders.enrich_order"):
        raise PermissionDenied
    current = list(order.lines.all())
    if request.method != "POST":
        form = LinesForm(lines=current, initial={"version": order.version})
        return render(request, "orders/lines.html", {"order": order, "form": form})
    rows = LinesForm.rows_sent(request.POST)
    if "add_row" in request.POST:
        # One more "add item" row; what was typed stays, nothing is saved yet.
        form = LinesForm(lines=current, rows=rows + 1, initial=request.POST.dict())
        return render(request, "orders/lines.html", {"order": order, "form": form})
    form = LinesForm(request.POST, lines=current, rows=rows)
    if form.is_valid():
        try:
            services.order_edit_lines(
                order=order,
                edits=form.edits(),
                actor=actor,
                expected_version=form.cleaned_data["version"],
            )
        except StaleVersion as exc:
            fresh = _get_order(number)
            form = LinesForm(lines=list(fresh.lines.all()), initial={"version": fresh.version})
            context = {"order": fresh, "form": form, "conflict": str(exc)}
            return render(request, "orders/lines.html", context, status=409)
        except DomainError as exc:
            for problem in exc.problems or []:
                form.add_error(form.field_of(problem.field), problem.message)
            if not exc.problems:
                form.add_error(None, exc.message)
        else:
            messages.success(request, "Lines saved.")
            return redirect(reverse("orders:detail", args=[number]))
    return render(request, "orders/lines.html", {"order": order, "form": form}, status=400)


@login_required
@require_GET
def item_search(request):
    """Active items for the add-item autocomplete; a replaced item names its successor."""
    # Every "add item" row asks with its own field name (add_item, add_item_2, ...).
    q = next((v for k, v in request.GET.items() if k.startswith("add_item")), "").strip()
    items = ItemFilter({"q": q}).qs.select_related("replaced_by")[:12] if len(q) >= 2 else []
    return render(request, "orders/partials/item_options.html", {"items": items})


# --- Design events and dead letters -----------------------------------------------------


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def design_events(request):
    status = request.GET.get("status", "invalid")
    events = DesignEvent.objects.select_related("order").order_by("-received_at", "-id")
    if status in DesignEvent.Status.values:
        events = events.filter(status=status)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": DesignEvent.Status.choices}
    return render(request, "orders/design_events.html", context)


@login_required
@permission_required("orders.view_order", raise_exception=True)
def design_event(request, event_id):
    """One event as sent and as corrected; a coordinator fixes the payload of a dead
    letter and processes it again, or reprocesses it as it is."""
    event = get_object_or_404(DesignEvent.objects.select_related("order"), event_id=event_id)
    actor = Actor.person(request.user)
    form = PayloadForm(initial={"payload": in_field_order(event.current_payload)})
    if request.method == "POST":
        if not actor.has_perm("orders.enrich_order"):
            raise PermissionDenied
        if "reprocess" in request.POST:
            try:
                event = ingestion.reprocess(event=event, actor=actor)
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                _say_processed(request, event)
                return redirect("orders:design_event", event_id=event.event_id)
        else:
            form = PayloadForm(request.POST)
            if form.is_valid():
                payload = form.cleaned_data["payload"]
                try:
                    event = ingestion.process(
                        ingestion.correct(event=event, payload=payload, actor=actor)
                    )
                except DomainError as exc:
                    form.add_error("payload", str(exc))
                else:
                    _say_processed(request, event)
                    return redirect("orders:design_event", event_id=event.event_id)
    context = {
        "event": event,
        "form": form,
        "can_fix": event.status == "invalid" and actor.has_perm("orders.enrich_order"),
        "original": json.dumps(in_field_order(event.payload), indent=2, ensure_ascii=False),
        "corrected": (
            json.dumps(in_field_order(event.corrected_payload), indent=2, ensure_ascii=False)
            if event.corrected_payload is not None
            else ""
        ),
    }
    return render(request, "orders/design_event.html", context)


def _say_processed(request, event: DesignEvent) -> None:
    if event.status == DesignEvent.Status.INVALID:
        messages.warning(
            request, "Saved and processed, but the event is still invalid: see its problems."
        )
    else:
        messages.success(request, f"Processed: {event.get_outcome_display()}.")


# --- Returns ----------------------------------------------------------------------------

RETURNS_PAGE_SIZE = 25


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def returns_queue(request):
    """Returned orders with their returns, each waiting for a coordinator to resolve it;
    or (state=resolved) the returns resolved so far, with who, when and why."""
    state = "resolved" if request.GET.get("state") == "resolved" else "waiting"
    rows = selectors.resolved_returns() if state == "resolved" else selectors.returned_orders()
    context = {
        "state": state,
        "page": Paginator(rows, RETURNS_PAGE_SIZE).get_page(request.GET.get("page")),
        "can_resolve": request.user.has_perm("orders.resolve_return"),
        "resolution_form": ReturnResolutionForm(),
    }
    return render(request, "orders/returns.html", context)


@login_required
@require_POST
def resolve_return(request, pk):
    """Close one return, reopen its order to draft, or replace what came back."""
    if not request.user.has_perm("orders.resolve_return"):
        raise PermissionDenied
    record = get_object_or_404(Return.objects.select_related("order"), pk=pk)
    form = ReturnResolutionForm(request.POST)
    replacement = ReplacementForm(record.lines.select_related("order_line__item"), request.POST)
    notice, ok = "", False
    if not form.is_valid():
        notice = "Choose how to resolve the return and say why."
    elif form.cleaned_data["resolution"] == "replace" and not replacement.is_valid():
        notice = " ".join(
            f"{replacement.fields[name].label}: {' '.join(errors)}"
            for name, errors in replacement.errors.items()
        )
    else:
        actor = Actor.person(request.user)
        resolution, reason = form.cleaned_data["resolution"], form.cleaned_data["reason"]
        try:
            notice = _resolve(record, resolution, reason, actor, replacement)
            ok = True
        except DomainError as exc:
            notice = str(exc)
    if request.htmx:
        context = {
            "order": selectors.orders_with_returns().get(pk=record.order_id),
            "notice": notice,
            "ok": ok,
            "can_resolve": True,
            "resolution_form": ReturnResolutionForm(),
        }
        return render(request, "orders/partials/return_order.html", context)
    (messages.success if ok else messages.error)(request, f"Return #{record.pk}: {notice}")
    return redirect("orders:returns")


def _resolve(
    record: Return, resolution: str, reason: str, actor: Actor, chosen: ReplacementForm
) -> str:
    number = record.order.number
    if resolution == "close":
        services.return_close(return_record=record, actor=actor, reason=reason)
        return f"closed as final. {number} is closed once none of its returns waits."
    if resolution == "reopen":
        services.return_reopen(return_record=record, actor=actor, reason_text=reason)
        return f"{number} is back in draft: change its lines and approve it again."
    replacement = services.return_replace(
        return_record=record, actor=actor, reason=reason, quantities=chosen.quantities()
    )
    return f"replacement order {replacement.number} created in draft for approval."
