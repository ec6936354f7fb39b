"""One allocation run, start to finish: read the demand, lock, walk, write, report.

1. Read every approved order and what its lines still need, without locks.
2. (Not for a dry run) In one transaction: lock the approved, ungated orders (by
   primary key) and keep those whose version is the one read (the others changed
   meanwhile: reported as `changed`, left to the next run); then lock the stock levels
   of the items in demand (by primary key) and read them fresh. Receipts, adjustments
   and cancellations that touch those rows wait for the run, and the run sees every
   one that committed before: nothing is lost or counted twice.
3. Walk the ranking (allocation.engine.walk) on that stock.
4. Write the allocations (allocation.engine.writes), send mismatched orders back to
   DRAFT through orders.services.order_reject, and record the outcome of every order
   and the run's counts, all in the same transaction.

A dry run does 1, reads the stock without locks, walks, and records only its report
(the run and its outcomes): no stock, allocation or order changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from allocation.choices import Result, RunStatus
from allocation.engine.demand import Demand, OrderDemand, load_demand, load_stock
from allocation.engine.walk import Plan, walk
from allocation.engine.writes import OrderAllocation, write_allocations
from allocation.models import AllocationOutcome, AllocationRun
from allocation.ranking import current_ranking
from oms import audit
from oms.actors import Actor
from oms.bulk import gc_paused, insert_values
from orders.choices import OrderStatus
from orders.models import Order


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
    """Compute the run and (unless it is a dry run) apply it; records its report."""
    ranking = current_ranking()
    run.ranking = ranking.as_json()
    demand = load_demand()
    with transaction.atomic(), audit.acting(actor, reason=str(run)):
        if run.dry_run:
            orders, changed = demand.orders, []
            stock = load_stock(_items(orders), lock=False)
        else:
            orders, changed = _lock_orders(demand)
            stock = load_stock(_items(orders), lock=True)
        plan = walk(orders, demand, stock, ranking, split=run.split)
        if not run.dry_run:
            _apply(plan, demand, run, actor)
        return _record(run, plan, changed, demand)


def _items(orders: list[OrderDemand]) -> set[int]:
    return {item for order in orders if not order.gated for _, item, _ in order.lines}


def _lock_orders(demand: Demand) -> tuple[list[OrderDemand], list[OrderDemand]]:
    """Lock the approved, ungated orders; keep the ones that did not change since
    they were read."""
    versions = dict(
        Order.objects.select_for_update()
        .filter(status=OrderStatus.APPROVED, gated=False)
        .order_by("pk")
        .values_list("pk", "version")
    )
    kept, changed = [], []
    for order in demand.orders:
        if order.gated or versions.get(order.id) == order.version:
            kept.append(order)
        else:
            changed.append(order)
    return kept, changed


def _apply(plan: Plan, demand: Demand, run: AllocationRun, actor: Actor) -> None:
    from orders.services import order_reject

    write_allocations(
        [
            OrderAllocation(
                d.order.id, d.placements, [demand.warehouses[w] for w in d.warehouse_ids]
            )
            for d in plan.decisions
            if d.result == Result.ALLOCATED
        ],
        actor=actor,
        reason=f"allocation run #{run.pk}",
        payload={"allocation_run": run.pk},
    )
    rejected = [d for d in plan.decisions if d.result == Result.REJECTED]
    orders = Order.objects.in_bulk([d.order.id for d in rejected])
    for decision in rejected:
        messages = [p["message"] for p in decision.explanation["problems"]]
        order_reject(
            order=orders[decision.order.id],
            actor=actor,
            reason_code=decision.reason_code,
            reason_text=f"{run}: " + " ".join(messages),
        )


def _record(run: AllocationRun, plan: Plan, changed: list[OrderDemand], demand) -> Summary:
    rows = [
        {
            "run_id": run.pk,
            "order_id": d.order.id,
            "rank": d.rank,
            "result": d.result,
            "reason_code": d.reason_code,
            "warehouses": ", ".join(demand.warehouses[w] for w in d.warehouse_ids),
            "units": d.units,
            "blocked_by": f" {' '.join(d.blocked_by)} " if d.blocked_by else "",
            "explanation": d.explanation,
        }
        for d in plan.decisions
    ]
    rows += [
        {
            "run_id": run.pk,
            "order_id": order.id,
            "rank": None,
            "result": Result.CHANGED,
            "reason_code": "",
            "warehouses": "",
            "units": 0,
            "blocked_by": "",
            "explanation": {
                "message": "The order changed while the run worked; the next run takes it."
            },
        }
        for order in changed
    ]
    insert_values(AllocationOutcome, rows)
    allocated = [d for d in plan.decisions if d.result == Result.ALLOCATED]
    summary = Summary(
        eligible=sum(1 for o in demand.orders if not o.gated),
        allocated=len(allocated),
        short=plan.count(Result.SHORT),
        rejected=plan.count(Result.REJECTED),
        gated=plan.count(Result.GATED),
        changed=len(changed),
        units_reserved=sum(d.units for d in allocated),
        allocations=sum(len(d.placements) for d in allocated),
    )
    for name in ("eligible", "allocated", "short", "rejected", "gated", "changed"):
        setattr(run, name, getattr(summary, name))
    run.units_reserved = summary.units_reserved
    run.blocking = plan.blocking
    run.status = RunStatus.SUCCEEDED
    run.active = None
    run.finished_at = timezone.now()
    run.save()
    return summary
