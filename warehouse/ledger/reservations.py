"""Stock held for order lines (allocations): where an order's stock would come from in
one warehouse, reserving placements in bulk, giving stock back (the one deallocation,
used by reject, cancel and upstream changes) and issuing it when the warehouse ships.

Callers hold the orders and their lines locked (orders.services); these functions lock
the stock levels they touch (in primary-key order, after the orders) and write every
change to the ledger. They read the lines they are given (their id, item and
quantities) and never write them: the caller records what the lines now hold.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.db import connection
from django.utils import timezone
from psycopg import sql

from oms import correlation
from oms.actors import Actor
from oms.bulk import add_to_rows, execute, identifiers, insert_values
from oms.errors import InsufficientStock, Problem, TransitionNotAllowed
from warehouse.ledger.choices import MovementKind
from warehouse.ledger.models import Allocation, StockLevel, StockMovement, Warehouse
from warehouse.ledger.services import (
    OrderLineLike,
    flag_minimum_crossings,
    lock_levels,
    publish_below_minimum,
    record_movement,
    record_movements,
)


class Placement(NamedTuple):
    """Stock of one level to reserve for one line."""

    line_id: int
    level_id: int
    quantity: int
    warehouse_id: int
    item_id: int


def place_in_warehouse(*, lines: Sequence[OrderLineLike], warehouse: Warehouse) -> list[Placement]:
    """Where every line's outstanding quantity would come from in one warehouse: all
    lines or none (InsufficientStock, a problem per short line). Locks the stock levels
    in primary-key order; the caller holds the order and its lines locked and reserves
    the placements (`reserve`)."""
    needed = {
        line.item_id: line.outstanding_quantity - line.allocated_quantity
        for line in lines
        if line.outstanding_quantity - line.allocated_quantity > 0
    }
    level_ids = StockLevel.objects.filter(warehouse=warehouse, item_id__in=needed).values_list(
        "pk", flat=True
    )
    levels = {level.item_id: level for level in lock_levels(level_ids).values()}
    shortages = []
    placements = []
    for line in sorted(lines, key=lambda line: line.pk):
        want = needed.get(line.item_id, 0)
        if not want:
            continue
        level = levels.get(line.item_id)
        available = level.available if level else 0
        if level is None or available < want:
            shortages.append(
                Problem(
                    code="short",
                    field=line.item.code,
                    message=f"{line.item.code}: needs {want}, {available} available at "
                    f"{warehouse.code}",
                )
            )
        else:
            placements.append(Placement(line.pk, level.pk, want, warehouse.pk, line.item_id))
    if shortages:
        raise InsufficientStock(f"Not enough stock at {warehouse.code}.", problems=shortages)
    return placements


def reserve(holds: Iterable[tuple[int, Sequence[Placement]]], *, actor: Actor, reason: str) -> None:
    """Reserve the placements of many orders, each (order id, placements), in a fixed
    number of statements: an ACTIVE allocation and a RESERVE movement per placement,
    and each level's reserved raised by what it gives, with its below-minimum flag and
    event as record_movement sets them. The caller holds the levels locked and has
    checked that they have the stock; the CHECK constraints refuse anything else."""
    held = [(order_id, p) for order_id, placements in holds for p in placements]
    if not held:
        return
    now = timezone.now()
    cause = f"reserve movements: {reason}"
    if connection.vendor == "postgresql":
        crossed = _reserve_in_sql(held, now=now, actor=actor, reason=reason)
        if crossed:
            publish_below_minimum(crossed, actor=actor, cause=cause)
        return
    insert_values(
        Allocation,
        [
            {
                "order_line_id": p.line_id,
                "stock_level_id": p.level_id,
                "quantity": p.quantity,
                "status": Allocation.Status.ACTIVE,
                "created_at": now,
                "ended_at": None,
            }
            for _, p in held
        ],
    )
    insert_values(
        StockMovement,
        [
            {
                "kind": MovementKind.RESERVE.value,
                "quantity": p.quantity,
                "warehouse_id": p.warehouse_id,
                "item_id": p.item_id,
                "order_id": order_id,
                "order_line_id": p.line_id,
                "reason": reason,
                "actor_kind": actor.kind.value,
                "actor_name": actor.name,
                "actor_user_id": _user_id(actor),
                "correlation_id": correlation.get(),
                "created_at": now,
            }
            for order_id, p in held
        ],
    )
    reserved: dict[int, int] = defaultdict(int)
    for _, p in held:
        reserved[p.level_id] += p.quantity
    add_to_rows(StockLevel, "reserved", dict(sorted(reserved.items())), also={"updated_at": now})
    flag_minimum_crossings(reserved, actor=actor, cause=cause)


def _user_id(actor: Actor) -> int | None:
    return actor.user.pk if actor.is_person and actor.user else None


# The placements of one reserve, staged on the server (PostgreSQL): sent once, with COPY,
# and every row written from there. Made once per database session and emptied at every
# commit, so that a run's many short transactions do not each create and drop a table.
STAGED = sql.Identifier("ledger_placements")
STAGE = sql.SQL(
    "CREATE TEMP TABLE IF NOT EXISTS {} (order_id bigint, line_id bigint, level_id bigint, "
    "quantity integer, warehouse_id bigint, item_id bigint) ON COMMIT DELETE ROWS"
).format(STAGED)


def _reserve_in_sql(
    held: Sequence[tuple[int, Placement]], *, now: datetime.datetime, actor: Actor, reason: str
) -> list[int]:
    """What reserve writes, on PostgreSQL: the placements are COPYed once and the
    allocations, the movements and the levels are written from them by three
    statements. Returns the levels that crossed below their minimum (the outer SELECT
    of the levels' statement reads them as they were before its UPDATE)."""
    allocation = identifiers(
        Allocation, "order_line", "stock_level", "quantity", "status", "created_at", "ended_at"
    )
    movement = identifiers(
        StockMovement,
        "kind",
        "quantity",
        "warehouse",
        "item",
        "order",
        "order_line",
        "reason",
        "created_at",
        "actor_kind",
        "actor_name",
        "actor_user",
        "correlation_id",
    )
    level = identifiers(
        StockLevel, "reserved", "on_hand", "minimum_level", "below_minimum", "updated_at"
    )
    with connection.cursor() as cursor:
        execute(cursor, STAGE)
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(sql.SQL("COPY {} FROM STDIN").format(STAGED)) as copy,
        ):
            for order_id, p in held:
                copy.write_row((order_id, *p))
        execute(
            cursor,
            sql.SQL(
                "INSERT INTO {table} ({order_line}, {stock_level}, {quantity}, {status}, "
                "{created_at}, {ended_at}) SELECT line_id, level_id, quantity, %s, %s, NULL "
                "FROM {staged}"
            ).format(staged=STAGED, **allocation),
            [Allocation.Status.ACTIVE.value, now],
        )
        execute(
            cursor,
            sql.SQL(
                "INSERT INTO {table} ({kind}, {quantity}, {warehouse}, {item}, {order}, "
                "{order_line}, {reason}, {created_at}, {actor_kind}, {actor_name}, "
                "{actor_user}, {correlation_id}) SELECT %s, quantity, warehouse_id, item_id, "
                "order_id, line_id, %s, %s, %s, %s, %s, %s FROM {staged}"
            ).format(staged=STAGED, **movement),
            [
                MovementKind.RESERVE.value,
                reason,
                now,
                actor.kind.value,
                actor.name,
                _user_id(actor),
                correlation.get(),
            ],
        )
        # The levels are also named by primary key (= ANY), so that PostgreSQL reaches
        # them through their index whatever the size of the write.
        execute(
            cursor,
            sql.SQL(
                "WITH u AS (UPDATE {table} AS t SET {reserved} = t.{reserved} + s.quantity, "
                "{updated_at} = %s, {below_minimum} = t.{on_hand} - t.{reserved} - s.quantity "
                "< t.{minimum_level} FROM (SELECT level_id, sum(quantity) AS quantity FROM "
                "{staged} GROUP BY level_id) AS s WHERE t.{pk} = s.level_id AND t.{pk} = ANY(%s) "
                "RETURNING t.{pk}, t.{below_minimum}) SELECT u.{pk} FROM u JOIN {table} AS o "
                "ON o.{pk} = u.{pk} WHERE u.{below_minimum} AND NOT o.{below_minimum}"
            ).format(staged=STAGED, **level),
            [now, sorted({p.level_id for _, p in held})],
        )
        crossed = [pk for (pk,) in cursor.fetchall()]
        # Empty for the next write in the same transaction (a commit empties it too).
        execute(cursor, sql.SQL("DELETE FROM {}").format(STAGED))
    return crossed


def release_allocations(
    *, lines: Iterable[OrderLineLike], actor: Actor, reason: str
) -> dict[int, int]:
    """Give back everything the lines hold: unreserve the stock, end the allocations.
    Returns the units given back per line id (the caller sets the lines' allocated
    quantity). In a fixed number of statements however many lines, so that the order,
    its lines and their stock levels stay locked briefly (a cancellation during an
    allocation run)."""
    allocations = list(
        Allocation.objects.filter(
            order_line__in=[line.pk for line in lines], status=Allocation.Status.ACTIVE
        )
        .select_related("order_line")
        .order_by("stock_level_id", "pk")
    )
    if not allocations:
        return {}
    levels = lock_levels(a.stock_level_id for a in allocations)
    record_movements(
        moves=[
            (levels[a.stock_level_id], MovementKind.UNRESERVE, a.quantity, a.order_line)
            for a in allocations
        ],
        actor=actor,
        reason=reason,
    )
    now = timezone.now()
    released: dict[int, int] = defaultdict(int)
    for allocation in allocations:
        allocation.status = Allocation.Status.UNRESERVED
        allocation.ended_at = now
        released[allocation.order_line_id] += allocation.quantity
    Allocation.objects.bulk_update(allocations, ["status", "ended_at"])
    return dict(released)


def issue_allocations(
    *, lines: Sequence[OrderLineLike], shipped: dict[int, int], actor: Actor
) -> None:
    """The warehouse shipped: issue the shipped quantity of each line from its
    allocations and unreserve what was not shipped."""
    allocations = list(
        Allocation.objects.filter(
            order_line__in=[line.pk for line in lines], status=Allocation.Status.ACTIVE
        ).order_by("order_line_id", "pk")
    )
    levels = lock_levels(a.stock_level_id for a in allocations)
    by_line = {line.pk: line for line in lines}
    left_to_issue = dict(shipped)
    now = timezone.now()
    for allocation in allocations:
        line = by_line[allocation.order_line_id]
        issue = min(allocation.quantity, left_to_issue.get(line.pk, 0))
        left_to_issue[line.pk] = left_to_issue.get(line.pk, 0) - issue
        level = levels[allocation.stock_level_id]
        if issue:
            record_movement(
                level=level, kind=MovementKind.ISSUE, quantity=issue, actor=actor, order_line=line
            )
        if allocation.quantity - issue:
            record_movement(
                level=level,
                kind=MovementKind.UNRESERVE,
                quantity=allocation.quantity - issue,
                actor=actor,
                order_line=line,
                reason="short shipment",
            )
        allocation.status = Allocation.Status.ISSUED
        allocation.ended_at = now
    Allocation.objects.bulk_update(allocations, ["status", "ended_at"])


def forget_lines(line_ids: Iterable[int]) -> None:
    """Before draft lines are deleted: the allocations they once held go (they have all
    ended, and the ledger tells their story), and their ledger movements keep the order
    and the item but no longer point at the line. A line still holding stock is never
    removed: a draft holds none."""
    line_ids = list(line_ids)
    if Allocation.objects.filter(order_line__in=line_ids, status=Allocation.Status.ACTIVE).exists():
        raise TransitionNotAllowed("A line that holds stock cannot be removed.")
    Allocation.objects.filter(order_line__in=line_ids).delete()
    StockMovement.objects.filter(order_line__in=line_ids).update(order_line=None)
