"""One allocation run, start to finish: plan without locks, apply in short
transactions, report.

1. Read the demand and the stock of the items in demand, in one snapshot, without
   locks (allocation.engine.demand), and walk the ranking on it
   (allocation.engine.walk): the plan, what one locked pass would do at that moment.
2. Record the ranking and the blocking items on the run, then write the plan in rank
   order in short transactions (allocation.engine.apply), each locking only the orders
   and stock levels it writes and re-checking them: an order that changed, or whose
   stock is no longer there, is reported as `changed` and keeps nothing. Nobody waits
   for more than one such chunk.
3. Count the outcomes the chunks recorded and finish the run; its duration runs from
   its start to the last commit.

A dry run does 1 and records its outcomes (the same chunks, without writes): no
stock, allocation or order changes. A run executed again after it stopped part way
(its task retried) plans only the orders its committed chunks did not decide, on the
stock they left, with the ranking it recorded, and goes on from the rank it reached.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from allocation.choices import Result, RunStatus
from allocation.engine.apply import apply_plan, decided
from allocation.engine.demand import OrderDemand, load_demand, load_stock, snapshot
from allocation.engine.walk import walk
from allocation.models import AllocationOutcome, AllocationRun
from allocation.ranking import Ranking, current_ranking
from oms.actors import Actor
from oms.bulk import gc_paused


@dataclass(frozen=True)
class Summary:
    eligible: int
    allocated: int
    short: int
    rejected: int
    gated: int
    changed: int
    units_reserved: int
    allocations: int


@gc_paused()
def execute(run: AllocationRun, *, actor: Actor) -> Summary:
    """Plan the run and (unless it is a dry run) apply it; records its report."""
    earlier = decided(run)
    if earlier.orders:  # taken up again: the same ranking as the part already written
        ranking = Ranking.from_json(run.ranking)
    else:
        ranking = current_ranking()
        run.ranking = ranking.as_json()
    with snapshot():
        demand = load_demand()
        orders = [o for o in demand.orders if o.id not in earlier.orders]
        stock = load_stock(_items(orders))
    plan = walk(orders, demand, stock, ranking, split=run.split, first_rank=earlier.last_rank + 1)
    if not earlier.orders:
        run.blocking = plan.blocking
        AllocationRun.objects.filter(pk=run.pk).update(ranking=run.ranking, blocking=run.blocking)
    allocations = apply_plan(plan.decisions, demand, run, actor=actor)
    return _record(run, allocations)


def _items(orders: list[OrderDemand]) -> set[int]:
    return {item for order in orders if not order.gated for _, item, _ in order.lines}


def _record(run: AllocationRun, allocations: int) -> Summary:
    """The run's counts, from the outcomes its chunks recorded (those of an earlier
    execution too), and its end."""
    counts: dict[str, int] = {}
    units: dict[str, int] = {}
    for row in (
        AllocationOutcome.objects.filter(run=run)
        .values("result")
        .annotate(n=Count("id"), units=Sum("units"))
        .order_by()
    ):
        counts[row["result"]] = row["n"]
        units[row["result"]] = row["units"] or 0
    summary = Summary(
        eligible=sum(n for result, n in counts.items() if result != Result.GATED),
        allocated=counts.get(Result.ALLOCATED, 0),
        short=counts.get(Result.SHORT, 0),
        rejected=counts.get(Result.REJECTED, 0),
        gated=counts.get(Result.GATED, 0),
        changed=counts.get(Result.CHANGED, 0),
        units_reserved=units.get(Result.ALLOCATED, 0),
        allocations=allocations,
    )
    for name in ("eligible", "allocated", "short", "rejected", "gated", "changed"):
        setattr(run, name, getattr(summary, name))
    run.units_reserved = summary.units_reserved
    run.status = RunStatus.SUCCEEDED
    run.active = None
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.save()
    return summary
