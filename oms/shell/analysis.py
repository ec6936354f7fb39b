"""The trends a manager asks for, week by week: orders created, approved and closed; the
lead time from approval to close per market; rejections per reason; and the items that
kept orders short in allocation runs.

Counts come from the outbox, OMS's log of what happened (one event per transition,
kept), so an order approved twice counts as two approvals. Each read is one
aggregate query over the weeks shown, whatever the number of orders, except the lead
times, which read one row per order closed in those weeks.
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Max
from django.db.models.functions import TruncWeek
from django.utils import timezone

from allocation.choices import RunStatus
from allocation.models import AllocationRun
from oms.models import OutboxEvent
from orders.choices import ReasonCode
from orders.models import Order

WEEKS = 12
# The orders' events counted per week, and how the page names them.
ORDER_EVENTS = {
    "order.created": "created",
    "order.approved": "approved",
    "order.completed": "closed",
}
# Items shown in the shortfall table: those that kept most units short in the last week.
SHORT_ITEMS_SHOWN = 10


@dataclass(frozen=True)
class Series:
    """One row of a weekly table: a name and a value per week, oldest first."""

    name: str
    values: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True)
class LeadTime:
    market: str
    orders: int
    median_days: float
    p90_days: float


@dataclass(frozen=True)
class Trends:
    weeks: tuple[datetime.date, ...]  # each week's Monday, oldest first
    orders: tuple[Series, ...]
    lead_times: tuple[LeadTime, ...]
    rejections: tuple[Series, ...]
    shortfalls: tuple[Series, ...]  # units to unblock, per item, at each week's last run


def week_starts(today: datetime.date, weeks: int = WEEKS) -> list[datetime.date]:
    """The Mondays of the last `weeks` weeks, this one last."""
    monday = today - datetime.timedelta(days=today.weekday())
    return [monday - datetime.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def trends(today: datetime.date | None = None, weeks: int = WEEKS) -> Trends:
    starts = week_starts(today or timezone.localdate(), weeks)
    since = timezone.make_aware(datetime.datetime.combine(starts[0], datetime.time()))
    return Trends(
        weeks=tuple(starts),
        orders=_order_counts(starts, since),
        lead_times=_lead_times(since),
        rejections=_rejections(starts, since),
        shortfalls=_shortfalls(starts, since),
    )


def _week(value) -> datetime.date:
    """The Monday of a TruncWeek value (a datetime in the current time zone)."""
    return value.date() if isinstance(value, datetime.datetime) else value


def _per_week(starts, counts: dict[datetime.date, int]) -> tuple[int, ...]:
    return tuple(counts.get(week, 0) for week in starts)


def _weekly(event_types, by: str, since) -> dict[str, dict[datetime.date, int]]:
    """The orders' events of these types since `since`, counted per value of `by` (an
    outbox field or payload path) and per week: one aggregate query."""
    rows = (
        OutboxEvent.objects.filter(
            aggregate_type="order", event_type__in=list(event_types), created_at__gte=since
        )
        .annotate(week=TruncWeek("created_at"))
        .values_list(by, "week")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[str, dict[datetime.date, int]] = defaultdict(dict)
    for key, week, n in rows:
        counts[key or ""][_week(week)] = n
    return counts


def _order_counts(starts, since) -> tuple[Series, ...]:
    counts = _weekly(ORDER_EVENTS, "event_type", since)
    return tuple(
        Series(name, _per_week(starts, counts[event_type]))
        for event_type, name in ORDER_EVENTS.items()
    )


def _lead_times(since) -> tuple[LeadTime, ...]:
    """Days from the last approval to the close, per market, of the orders closed since
    `since` (the last close of each, if it closed again after a return)."""
    closed = dict(
        OutboxEvent.objects.filter(
            aggregate_type="order", event_type="order.completed", created_at__gte=since
        )
        .values_list("aggregate_id")
        .annotate(at=Max("created_at"))
        .order_by()
    )
    orders = Order.objects.filter(pk__in=[int(pk) for pk in closed], approved_at__isnull=False)
    days: dict[str, list[float]] = defaultdict(list)
    for pk, approved_at, market in orders.values_list("pk", "approved_at", "project__market__name"):
        waited = closed[str(pk)] - approved_at
        days[market].append(max(waited.total_seconds(), 0) / 86400)
    return tuple(
        LeadTime(market, len(values), statistics.median(values), _p90(values))
        for market, values in sorted(days.items())
    )


def _p90(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def _rejections(starts, since) -> tuple[Series, ...]:
    """Orders sent back to draft, per reason, per week; the reasons seen, most first."""
    counts = _weekly(["order.rejected"], "payload__reason__code", since)
    labels = dict(ReasonCode.choices)
    series = [
        Series(labels.get(code, code or "No reason given"), _per_week(starts, by_week))
        for code, by_week in counts.items()
    ]
    return tuple(sorted(series, key=lambda s: (-s.total, s.name)))


def _shortfalls(starts, since) -> tuple[Series, ...]:
    """Per item that kept orders short, the units that would have unblocked them at the
    last allocation run of each week (runs record their blocking items)."""
    last_ids = (
        AllocationRun.objects.filter(
            status=RunStatus.SUCCEEDED, dry_run=False, started_at__gte=since
        )
        .annotate(week=TruncWeek("started_at"))
        .values_list("week")
        .annotate(last=Max("id"))
        .order_by()
    )
    weeks = {last: _week(week) for week, last in last_ids}
    last_runs = {
        weeks[run.pk]: run
        for run in AllocationRun.objects.filter(pk__in=list(weeks)).only("id", "blocking")
    }
    units: dict[str, dict[datetime.date, int]] = defaultdict(dict)
    for week, run in last_runs.items():
        for row in run.blocking:
            units[row["item"]][week] = row["units_to_unblock"]
    latest = max(last_runs, default=None)
    ranked = sorted(units, key=lambda item: (-units[item].get(latest, 0), item))
    return tuple(
        Series(item, _per_week(starts, units[item])) for item in ranked[:SHORT_ITEMS_SHOWN]
    )
