"""Applying a run's plan in short transactions, so that a run never holds anyone up.

The plan (allocation.engine.walk) was made without locks. It is written in rank order,
a chunk of decisions at a time, each chunk one short transaction that:

1. locks the orders it writes (those to allocate or reject; by primary key, waiting
   for a lock another writer holds, never skipping it), and reads the version of
   those it only reports (short ones);
2. re-checks each: still APPROVED, not gated, at the version the plan read. An order
   that changed meanwhile (cancelled, sent back, edited, allocated by hand) gets the
   outcome `changed` and keeps what it had: the next run takes it;
3. sends the mismatched orders back to DRAFT (orders.services.order_reject);
4. locks the stock levels the chunk takes (by primary key, after the orders: the lock
   order of every stock service) and, in rank order, gives each order its placements
   only if every one still fits what is available now (a stock change since the plan
   may have taken some away); an order that no longer fits gets `changed` and takes
   nothing: all or none per order, always;
5. allocates the orders that still fit (orders.services.orders_allocate, the allocate
   transition in bulk) and writes the chunk's outcomes.

So a cancellation, a receipt or an adjustment waits at most for the one chunk that
holds its row, and the next chunk sees it. With nothing else changing, every re-check
holds and the run writes exactly the plan: what one locked pass would have done.

Chunks are sized by time: the first is small (FIRST_CHUNK rows), and each next one is
scaled so that it takes about OMS_ALLOCATION_CHUNK_SECONDS, commit included (which is
where PostgreSQL checks the deferred foreign keys of the rows written). A chunk that
meets a deadlock or a serialization failure is rolled back and tried again.

A run whose execution stopped part way (a lost connection: the task tries again) is
taken up where it stopped: the chunks it committed have recorded their outcomes, and
allocation.engine.run plans only the orders without one (see `decided`).
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError, transaction

from allocation.choices import Result
from allocation.engine.demand import Demand
from allocation.engine.walk import Decision
from allocation.models import AllocationOutcome, AllocationRun
from oms import audit
from oms.actors import Actor
from oms.bulk import insert_values, rows_by_ids
from orders.choices import OrderStatus
from orders.locks import lock_order_values
from orders.models import Order
from orders.services import OrderAllocation, order_reject, orders_allocate
from warehouse.ledger.services import lock_level_values

logger = logging.getLogger(__name__)

# A chunk's size is counted in rows: an order's outcome is one; each of its placements
# is PLACEMENT_ROWS more (an allocation, a ledger movement, a line and its history row,
# a stock level), so that a row costs about the same whatever the chunk's mix of
# allocated and short orders, and its time follows from its size.
PLACEMENT_ROWS = 5
# The first chunk's size. Small, so that the first locks are held briefly while the
# chunk's real cost is measured.
FIRST_CHUNK = 1000
# Chunk sizes stay within these, and change by at most GROWTH times from one to the next.
MIN_CHUNK = 50
MAX_CHUNK = 200_000
GROWTH = 2.0
# A chunk that meets a deadlock or a serialization failure is tried this many times.
CHUNK_ATTEMPTS = 5
# SQLSTATEs worth trying again: deadlock_detected, serialization_failure.
RETRYABLE = {"40P01", "40001"}

ORDER_CHANGED = "The order changed while the run worked; the next run takes it."
STOCK_CHANGED = (
    "The stock it was to take changed while the run worked and no longer covers it; "
    "the next run takes it."
)


@dataclass(frozen=True)
class Decided:
    """What an earlier execution of the same run already committed: the orders with an
    outcome, and the last rank it reached."""

    orders: frozenset[int]
    last_rank: int


def decided(run: AllocationRun) -> Decided:
    rows = AllocationOutcome.objects.filter(run=run).values_list("order_id", "rank")
    orders, last = set(), 0
    for order_id, rank in rows:
        orders.add(order_id)
        last = max(last, rank or 0)
    return Decided(frozenset(orders), last)


class ChunkSizer:
    """How many rows the next chunk takes so that it lasts about `seconds`."""

    def __init__(self, seconds: float, first: int | None = None):
        self.seconds = seconds
        self.rows = first or FIRST_CHUNK

    def measured(self, rows: int, seconds: float) -> None:
        if rows < self.rows / 2:  # the last, short chunk tells little
            return
        per_row = max(seconds, 1e-4) / rows
        wanted = self.seconds / per_row
        self.rows = int(min(max(wanted, self.rows / GROWTH, MIN_CHUNK), self.rows * GROWTH))
        self.rows = min(self.rows, MAX_CHUNK)


def _weight(decision: Decision) -> int:
    return 1 + PLACEMENT_ROWS * len(decision.placements)


def apply_plan(
    decisions: Sequence[Decision], demand: Demand, run: AllocationRun, *, actor: Actor
) -> int:
    """Write the decisions (gated first, then in rank order) chunk by chunk, each in
    its own transaction; for a dry run, only their outcomes. Returns the number of
    allocations written (for a dry run, the number it would have written)."""
    sizer = ChunkSizer(settings.OMS_ALLOCATION_CHUNK_SECONDS)
    written = 0
    start = 0
    while start < len(decisions):
        end, rows = start, 0
        while end < len(decisions) and (end == start or rows < sizer.rows):
            rows += _weight(decisions[end])
            end += 1
        began = time.perf_counter()
        written += _apply_chunk(decisions[start:end], demand, run, actor=actor)
        seconds = time.perf_counter() - began
        logger.debug("%s: %d decisions, %d rows in %.3f s", run, end - start, rows, seconds)
        sizer.measured(rows, seconds)
        start = end
    return written


def _apply_chunk(
    chunk: Sequence[Decision], demand: Demand, run: AllocationRun, *, actor: Actor
) -> int:
    """One chunk in its own transaction (a savepoint inside a caller's), tried again
    after a deadlock or a serialization failure."""
    for attempt in range(1, CHUNK_ATTEMPTS + 1):
        try:
            with transaction.atomic(), audit.acting(actor, reason=str(run)):
                return _write_chunk(chunk, demand, run, actor=actor)
        except OperationalError as exc:
            if attempt == CHUNK_ATTEMPTS or _sqlstate(exc) not in RETRYABLE:
                raise
            time.sleep(random.uniform(0, 0.05 * attempt))
    raise AssertionError("unreachable")


def _sqlstate(exc: Exception) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None)


def _write_chunk(
    chunk: Sequence[Decision], demand: Demand, run: AllocationRun, *, actor: Actor
) -> int:
    if run.dry_run:  # a report only, counting what it would have written
        insert_values(AllocationOutcome, outcome_rows(chunk, demand, run))
        return sum(len(d.placements) for d in chunk if d.result == Result.ALLOCATED)
    writes = [d for d in chunk if d.result in (Result.ALLOCATED, Result.REJECTED)]
    reports = [d for d in chunk if d.result == Result.SHORT]
    found = _lock_orders([d.order.id for d in writes])
    found.update(_read_orders([d.order.id for d in reports]))
    changed: dict[int, str] = {}
    for decision in (*writes, *reports):
        order = decision.order
        if found.get(order.id) != (OrderStatus.APPROVED, order.version, False):
            changed[order.id] = ORDER_CHANGED
    _reject(
        [d for d in writes if d.result == Result.REJECTED and d.order.id not in changed], run, actor
    )
    allocate = [d for d in writes if d.result == Result.ALLOCATED and d.order.id not in changed]
    available = _lock_levels({p.level_id for d in allocate for p in d.placements})
    taken = []
    for decision in allocate:  # in rank order
        wanted: dict[int, int] = defaultdict(int)
        for placement in decision.placements:
            wanted[placement.level_id] += placement.quantity
        if all(available.get(level, 0) >= quantity for level, quantity in wanted.items()):
            for level, quantity in wanted.items():
                available[level] -= quantity
            taken.append(decision)
        else:
            changed[decision.order.id] = STOCK_CHANGED
    orders_allocate(
        [
            OrderAllocation(
                d.order.id, d.placements, [demand.warehouses[w] for w in d.warehouse_ids]
            )
            for d in taken
        ],
        actor=actor,
        reason=f"allocation run #{run.pk}",
        payload={"allocation_run": run.pk},
    )
    insert_values(AllocationOutcome, outcome_rows(chunk, demand, run, changed))
    return sum(len(d.placements) for d in taken)


def _lock_orders(ids: list[int]) -> dict[int, tuple[str, int, bool]]:
    """Lock the orders (by primary key) and read what the re-check compares."""
    rows = lock_order_values(ids, ["pk", "status", "version", "gated"])
    return {pk: (status, version, gated) for pk, status, version, gated in rows}


def _read_orders(ids: list[int]) -> dict[int, tuple[str, int, bool]]:
    rows = rows_by_ids(Order, ids, ["pk", "status", "version", "gated"])
    return {pk: (status, version, gated) for pk, status, version, gated in rows}


def _lock_levels(ids: set[int]) -> dict[int, int]:
    """Lock the stock levels (by primary key, after the orders, as every stock service
    does) and read what is available now."""
    rows = lock_level_values(ids, ["pk", "on_hand", "reserved"])
    return {pk: on_hand - reserved for pk, on_hand, reserved in rows}


def _reject(decisions: list[Decision], run: AllocationRun, actor: Actor) -> None:
    orders = Order.objects.in_bulk([d.order.id for d in decisions])
    for decision in decisions:
        messages = [p["message"] for p in decision.explanation["problems"]]
        order_reject(
            order=orders[decision.order.id],
            actor=actor,
            reason_code=decision.reason_code,
            reason_text=f"{run}: " + " ".join(messages),
        )


def outcome_rows(
    decisions: Sequence[Decision],
    demand: Demand,
    run: AllocationRun,
    changed: dict[int, str] | None = None,
) -> list[dict]:
    """The outcome of each decision; an order in `changed` gets `changed` with the
    message given for it."""
    changed = changed or {}
    rows = []
    for d in decisions:
        message = changed.get(d.order.id)
        if message is not None:
            rows.append(
                {
                    "run_id": run.pk,
                    "order_id": d.order.id,
                    "rank": d.rank,
                    "result": Result.CHANGED,
                    "reason_code": "",
                    "warehouses": "",
                    "units": 0,
                    "blocked_by": "",
                    "explanation": {"message": message},
                }
            )
            continue
        rows.append(
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
        )
    return rows
