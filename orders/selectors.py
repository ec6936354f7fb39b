"""Reads for orders: querysets and shapes for pages and the API."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Field, Model, Prefetch, Q, QuerySet
from django.utils import timezone

from catalog.models import Item
from oms.roles import Role
from oms.text_search import text_match
from orders.choices import OrderStatus, TimelineKind
from orders.models import Order, OrderLine, OrderNote, OrderRevision, Project, SavedView
from warehouse.models import Return, ReturnLine

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def status_counts() -> list[tuple[OrderStatus, int]]:
    """Every status with its number of orders, in lifecycle order."""
    counts = dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by())
    return [(status, counts.get(status.value, 0)) for status in OrderStatus]


# --- Timeline ---------------------------------------------------------------------------

# Bookkeeping fields that change with every save and say nothing to a reader.
TIMELINE_IGNORED_FIELDS = {
    "updated_at",
    "version",
    "status_changed_at",
    "lines_edited_by",
    "correlation_id",
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: object
    new: object


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime.datetime
    subject: str  # "order" or "line <item code>"
    action: str  # created, changed, deleted
    actor_kind: str
    actor_name: str
    reason: str
    correlation_id: str
    changes: tuple[FieldChange, ...]
    history_id: int
    kind: str = TimelineKind.HISTORY
    detail: str = ""
    technical: str = ""  # raw error text, for staff only


def order_timeline(order: Order) -> list[TimelineEntry]:
    """The audit history of an order and its lines together, with the calls OMS made to
    warehouses for it, what the warehouses answered and the notes written on it, newest
    first: who, which kind of actor, which fields changed from what to what, when and
    why. Five queries, however long the history."""
    order_records = list(order.history.order_by("history_date", "history_id"))
    line_records = list(
        OrderLine.history.filter(order_id=order.pk)
        .select_related("item")
        .order_by("history_date", "history_id")
    )
    entries = _entries(order_records, Order, lambda record: "order")
    entries += _entries(line_records, OrderLine, lambda record: f"line {record.item.code}")
    entries = _with_assignee_names(entries)
    entries += warehouse_entries(order)
    entries += note_entries(order)
    entries.sort(key=lambda e: (e.when, e.history_id), reverse=True)
    return entries


@dataclass(frozen=True)
class TimelineAction:
    """One action on the order's page timeline: what one actor wrote at once (a
    transition with its line changes, an edit of several lines), or one note, call to a
    warehouse or release event."""

    when: datetime.datetime
    actor_kind: str
    actor_name: str
    reason: str
    kind: str
    entries: tuple[TimelineEntry, ...]


# History entries of one actor and one request (correlation id) this close together are
# one action: the same transaction writes them within a few milliseconds.
ONE_ACTION_WITHIN = datetime.timedelta(seconds=5)


def timeline_actions(
    entries: list[TimelineEntry], *, actor_kind: str = "", kind: str = ""
) -> list[TimelineAction]:
    """The timeline as actions, newest first, with only the entries of one kind of actor
    (ActorKind) and one kind of change (TimelineKind) when asked."""
    actions: list[TimelineAction] = []
    group: list[TimelineEntry] = []

    def close() -> None:
        if group:
            first = next((e for e in group if e.subject == "order"), group[0])
            actions.append(
                TimelineAction(
                    when=group[0].when,
                    actor_kind=first.actor_kind,
                    actor_name=first.actor_name,
                    reason=first.reason,
                    kind=first.kind,
                    entries=tuple(group),
                )
            )
            group.clear()

    for entry in entries:
        if (actor_kind and entry.actor_kind != actor_kind) or (kind and entry.kind != kind):
            continue
        if not (group and _same_action(group[0], entry)):
            close()
        group.append(entry)
    close()
    return actions


def _same_action(first: TimelineEntry, entry: TimelineEntry) -> bool:
    return (
        first.kind == entry.kind == TimelineKind.HISTORY
        and (first.actor_kind, first.actor_name) == (entry.actor_kind, entry.actor_name)
        and (first.correlation_id or first.reason) == (entry.correlation_id or entry.reason)
        and first.when - entry.when <= ONE_ACTION_WITHIN
    )


def note_entries(order: Order) -> list[TimelineEntry]:
    """The notes on the order (one query)."""
    return [
        TimelineEntry(
            when=note.created_at,
            subject="note",
            action="added",
            actor_kind=note.actor_kind,
            actor_name=note.actor_name,
            reason="",
            correlation_id=note.correlation_id,
            changes=(),
            history_id=note.pk,
            kind=TimelineKind.NOTE,
            detail=note.text,
        )
        for note in OrderNote.objects.filter(order_id=order.pk)
    ]


# What the outbox events about an order's releases say on its timeline.
RELEASE_EVENT_ACTIONS = {
    "release.accepted": "accepted by the warehouse",
    "release.rejected": "rejected by the warehouse",
    "release.completed": "completed by the warehouse",
    "release.not_delivered": "not delivered; waits to be sent again",
    "release.resent": "sent again",
    "release.asked": "asked again for the warehouse's answer",
    "release.unanswered": "not answered; left to a person",
}


def warehouse_entries(order: Order) -> list[TimelineEntry]:
    """Calls to warehouse systems and release events for the order (two queries)."""
    from oms.models import OutboxEvent
    from warehouse.delivery import explain
    from warehouse.models import WarehouseCall

    calls = WarehouseCall.objects.filter(release__order_id=order.pk).select_related(
        "warehouse", "release"
    )
    entries = [
        TimelineEntry(
            when=call.created_at,
            subject=f"release to {call.warehouse.code}",
            action=f"call {call.get_outcome_display().lower()}",
            actor_kind="system",
            actor_name="warehouse-dispatch",
            reason=explain(call.error) if call.error else "",
            correlation_id=call.correlation_id,
            changes=(),
            history_id=call.pk,
            kind=TimelineKind.WAREHOUSE_CALL,
            detail=f"{call.method} {call.url} -> {call.status_code or 'no answer'} in "
            f"{call.latency_ms} ms (attempt {call.attempt}, release {call.release.release_id})",
            technical=call.error,
        )
        for call in calls
    ]
    events = OutboxEvent.objects.filter(
        aggregate_type="order",
        aggregate_id=str(order.pk),
        event_type__in=list(RELEASE_EVENT_ACTIONS),
    ).order_by("id")
    for event in events:
        payload = event.payload
        actor = payload.get("actor") or {}
        detail = f"release {payload.get('release_id')}"
        if payload.get("event_id"):
            detail += f", warehouse event {payload['event_id']}"
        short = payload.get("short")
        error = payload.get("error") or ""
        entries.append(
            TimelineEntry(
                when=event.created_at,
                subject=f"release to {payload.get('warehouse', '?')}",
                action=RELEASE_EVENT_ACTIONS[event.event_type],
                actor_kind=actor.get("kind", "system"),
                actor_name=actor.get("name", ""),
                reason=payload.get("reason") or (explain(error) if error else ""),
                correlation_id=event.correlation_id,
                changes=tuple(
                    FieldChange("short", f"{item} short", None, missing)
                    for item, missing in (short or {}).items()
                ),
                history_id=event.pk,
                kind=TimelineKind.RELEASE_EVENT,
                detail=detail,
                technical=error,
            )
        )
    return entries


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def _entries(
    records: Iterable[Any], model: type[Model], subject_of: Callable[[Any], str]
) -> list[TimelineEntry]:
    fields = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in TIMELINE_IGNORED_FIELDS and f.name != "order"
    ]
    previous: dict[int, object] = {}
    entries = []
    for record in records:
        before = previous.get(record.id)
        changes = []
        if record.history_type == "~" and before is not None:
            for f in fields:
                old, new = getattr(before, f.attname), getattr(record, f.attname)
                if old != new:
                    changes.append(
                        FieldChange(f.name, str(f.verbose_name), _shown(f, old), _shown(f, new))
                    )
            if not changes:
                previous[record.id] = record
                continue
        elif record.history_type == "+":
            changes = [
                FieldChange(
                    f.name, str(f.verbose_name), None, _shown(f, getattr(record, f.attname))
                )
                for f in fields
                if getattr(record, f.attname) not in (None, "")
                and f.name in {"status", "quantity", "source"}
            ]
        previous[record.id] = record
        entries.append(
            TimelineEntry(
                when=record.history_date,
                subject=subject_of(record),
                action=_ACTIONS[record.history_type],
                actor_kind=record.actor_kind,
                actor_name=record.actor_name,
                reason=record.history_change_reason or "",
                correlation_id=record.correlation_id,
                changes=tuple(changes),
                history_id=record.history_id,
            )
        )
    return entries


def _with_assignee_names(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """The entries with each change of assignee told by name instead of a user id (one
    more query, only for an order that was ever assigned)."""
    ids = {
        value
        for entry in entries
        for change in entry.changes
        if change.field == "assignee"
        for value in (change.old, change.new)
        if isinstance(value, int)  # a user id (None when there was nobody)
    }
    if not ids:
        return entries
    names: dict[object, str] = {
        user.pk: person_name(user) for user in get_user_model().objects.filter(pk__in=ids)
    }

    def named(change: FieldChange) -> FieldChange:
        if change.field != "assignee":
            return change
        return replace(change, old=names.get(change.old), new=names.get(change.new))

    return [
        replace(entry, changes=tuple(named(change) for change in entry.changes))
        if any(change.field == "assignee" for change in entry.changes)
        else entry
        for entry in entries
    ]


def _shown(field: Field[Any, Any], value: object) -> object:
    if value is not None and field.choices:
        return dict(field.flatchoices).get(value, value)
    return value


# --- Lists and details ------------------------------------------------------------------


def order_list() -> QuerySet[Order]:
    """Orders for lists, newest change first (ties broken by id, so pages are stable)."""
    return Order.objects.select_related("project__market__region", "assignee").order_by(
        "-updated_at", "-id"
    )


def queue_rows() -> QuerySet[Order]:
    """Orders for the queue: order_list() with each order's open releases, whose
    delivery the queue shows (one more query per page)."""
    from warehouse.selectors import open_releases_prefetch

    return order_list().prefetch_related(open_releases_prefetch())


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

    from oms.models import OutboxEvent

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
