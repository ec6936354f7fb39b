"""Reads for orders: querysets and shapes for pages and the API."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from orders.choices import OrderStatus
from orders.models import Order, OrderLine


def status_counts() -> list[tuple[OrderStatus, int]]:
    """Every status with its number of orders, in lifecycle order."""
    counts = dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by())
    return [(status, counts.get(status.value, 0)) for status in OrderStatus]


# --- Timeline ---------------------------------------------------------------------------

# Bookkeeping fields that change with every save and say nothing to a reader.
TIMELINE_IGNORED_FIELDS = {"updated_at", "version", "status_changed_at", "lines_edited_by"}


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


def order_timeline(order: Order) -> list[TimelineEntry]:
    """The audit history of an order and its lines together, newest first: who, which
    kind of actor, which fields changed from what to what, when and why. Two queries,
    however long the history."""
    order_records = list(order.history.order_by("history_date", "history_id"))
    line_records = list(
        OrderLine.history.filter(order_id=order.pk)
        .select_related("item")
        .order_by("history_date", "history_id")
    )
    entries = _entries(order_records, Order, lambda record: "order")
    entries += _entries(line_records, OrderLine, lambda record: f"line {record.item.code}")
    entries.sort(key=lambda e: (e.when, e.history_id), reverse=True)
    return entries


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def _entries(records, model, subject_of) -> list[TimelineEntry]:
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


def _shown(field, value):
    if value is not None and field.choices:
        return dict(field.flatchoices).get(value, value)
    return value


# --- Lists and details ------------------------------------------------------------------


def order_list():
    """Orders for lists, newest change first (ties broken by id, so pages are stable)."""
    return Order.objects.select_related("project__market__region").order_by("-updated_at", "-id")


def order_detail():
    """Orders with everything the detail page and endpoint show."""
    return Order.objects.select_related("project__market__region", "parent").prefetch_related(
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


def order_revisions(order: Order):
    return order.revisions.order_by("-number")


def jeopardy_condition(today: datetime.date) -> Q:
    """Open orders at risk: longer in their status than its limit (OMS_STATUS_LIMIT_DAYS),
    or needed within OMS_NEED_BY_RISK_DAYS and not yet released."""
    now = timezone.now()
    overdue = Q()
    for status, days in settings.OMS_STATUS_LIMIT_DAYS.items():
        overdue |= Q(status=status, status_changed_at__lt=now - datetime.timedelta(days=days))
    soon = today + datetime.timedelta(days=settings.OMS_NEED_BY_RISK_DAYS)
    need_by_risk = Q(
        status__in=[OrderStatus.DRAFT, OrderStatus.APPROVED, OrderStatus.ALLOCATED],
        need_by__lte=soon,
    )
    return overdue | need_by_risk


def jeopardy(today: datetime.date):
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
