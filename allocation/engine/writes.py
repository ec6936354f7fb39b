"""Writing allocations: the one place where approved orders get their stock and move
to ALLOCATED, for one order (orders.services.order_allocate) or a whole run.

Set-based: a fixed number of statements however many orders. On PostgreSQL the
placements are sent once (COPY into a temporary table) and every row is written from
there by INSERT ... SELECT and UPDATE ... FROM; elsewhere with bulk inserts (oms.bulk)
and F() updates. For each order it writes what the single-order services write: the
allocations, a RESERVE movement per allocation in the ledger, the stock
levels' reserved (added as F() + n), the lines' allocated quantity with their history,
the order's transition to ALLOCATED with its history, and an `order.allocated` outbox
event.

Callers hold the orders and the stock levels locked (orders first, then levels in
primary-key order) and have checked under those locks that every order is APPROVED
and every level has the stock; the database's CHECK constraints refuse anything else.
An order's lines are guarded by the order's lock: every service that changes lines
locks their order first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import F
from django.utils import timezone

from allocation.engine.walk import Placement
from allocation.models import Allocation
from oms import audit, correlation, outbox
from oms.actors import Actor
from oms.bulk import add_to_rows, chunked, insert_values
from oms.errors import StaleVersion
from orders.choices import OrderStatus
from orders.models import Order, OrderLine
from warehouse.choices import MovementKind
from warehouse.models import StockLevel, StockMovement
from warehouse.services import flag_minimum_crossings, publish_below_minimum


@dataclass(frozen=True)
class OrderAllocation:
    order_id: int
    placements: list[Placement]
    warehouses: list[str]  # codes, in the order stock was taken


def write_allocations(
    allocations: list[OrderAllocation], *, actor: Actor, reason: str, payload=None
) -> None:
    """Reserve every placement and move each order to ALLOCATED. `reason` is the
    orders' change reason; `payload` is added to each outbox event."""
    if not allocations:
        return
    with audit.acting(actor, reason=reason):
        _write(allocations, actor, reason, payload or {})


def _write(allocations, actor, reason, payload) -> None:
    cause = f"reserve movements: {reason}"
    if connection.vendor == "postgresql":
        crossed = _write_in_sql(allocations, actor, reason, payload)
        if crossed:
            publish_below_minimum(crossed, actor=actor, cause=cause)
        return
    _write_rows(allocations, actor, reason, payload)
    flag_minimum_crossings(
        (p.level_id for a in allocations for p in a.placements), actor=actor, cause=cause
    )


def _write_rows(allocations, actor, reason, payload) -> None:
    """Row by row from Python, in bulk (bulk_create and F() updates)."""
    now = timezone.now()
    correlation_id = correlation.get()
    placements = [(a, p) for a in allocations for p in a.placements]
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
            for _, p in placements
        ],
    )
    user_id = actor.user.pk if actor.is_person else None
    insert_values(
        StockMovement,
        [
            {
                "kind": MovementKind.RESERVE.value,
                "quantity": p.quantity,
                "warehouse_id": p.warehouse_id,
                "item_id": p.item_id,
                "order_id": a.order_id,
                "order_line_id": p.line_id,
                "reason": reason,
                "actor_kind": actor.kind.value,
                "actor_name": actor.name,
                "actor_user_id": user_id,
                "correlation_id": correlation_id,
                "created_at": now,
            }
            for a, p in placements
        ],
    )
    reserved: dict[int, int] = defaultdict(int)
    allocated: dict[int, int] = defaultdict(int)
    line_reason: dict[int, str] = {}
    for a, p in placements:
        reserved[p.level_id] += p.quantity
        allocated[p.line_id] += p.quantity
        line_reason[p.line_id] = f"allocated at {', '.join(a.warehouses)}"
    add_to_rows(StockLevel, "reserved", dict(sorted(reserved.items())), also={"updated_at": now})
    add_to_rows(OrderLine, "allocated_quantity", allocated)
    order_ids = [a.order_id for a in allocations]
    for chunk in chunked(order_ids):
        moved = Order.objects.filter(pk__in=chunk, status=OrderStatus.APPROVED).update(
            status=OrderStatus.ALLOCATED,
            version=F("version") + 1,
            status_changed_at=now,
            updated_at=now,
        )
        if moved != len(chunk):
            raise StaleVersion("An order left APPROVED while its allocation was written.")
    _history(OrderLine, "order_id", order_ids, keep=line_reason, reason=line_reason.get)
    orders = _history(Order, "id", order_ids, keep=None, reason=lambda pk: reason)
    _outbox(allocations, orders, actor, payload)


# The placements and orders of one write, staged on the server. Made once per database
# session and emptied at every commit, so that a run's many short transactions do not
# each create and drop tables.
STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS alloc_place (line_id bigint, level_id bigint, "
    "quantity integer, warehouse_id bigint, item_id bigint, order_id bigint) "
    "ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS alloc_order (order_id bigint PRIMARY KEY, reason text) "
    "ON COMMIT DELETE ROWS",
)


def _write_in_sql(allocations, actor, reason, payload) -> list[int]:
    """On PostgreSQL: the placements go to the server once (COPY into temporary
    tables) and every row is written from there by a handful of INSERT ... SELECT and
    UPDATE ... FROM statements, the same rows _write_rows writes. The rows updated are
    also named by primary key (= ANY), so that PostgreSQL reaches them through their
    index instead of scanning the table, whatever the size of the write. Returns the
    levels that went below their minimum."""
    now = timezone.now()
    correlation_id = correlation.get()
    user_id = actor.user.pk if actor.is_person else None
    line_reasons = {a.order_id: f"allocated at {', '.join(a.warehouses)}" for a in allocations}
    level_ids = sorted({p.level_id for a in allocations for p in a.placements})
    line_ids = sorted({p.line_id for a in allocations for p in a.placements})
    with connection.cursor() as cursor:
        for statement in STAGING:
            cursor.execute(statement)
        with connection.wrap_database_errors:
            with cursor.cursor.copy("COPY alloc_place FROM STDIN") as copy:
                for a in allocations:
                    for p in a.placements:
                        copy.write_row((*p, a.order_id))
            with cursor.cursor.copy("COPY alloc_order FROM STDIN") as copy:
                for row in line_reasons.items():
                    copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {_table(Allocation)} (order_line_id, stock_level_id, quantity, status, "
            "created_at, ended_at) SELECT line_id, level_id, quantity, %s, %s, NULL "
            "FROM alloc_place",
            [Allocation.Status.ACTIVE.value, now],
        )
        cursor.execute(
            f"INSERT INTO {_table(StockMovement)} (kind, quantity, warehouse_id, item_id, "
            "order_id, order_line_id, reason, created_at, actor_kind, actor_name, actor_user_id, "
            "correlation_id) SELECT %s, quantity, warehouse_id, item_id, order_id, line_id, %s, "
            "%s, %s, %s, %s, %s FROM alloc_place",
            [
                MovementKind.RESERVE.value,
                reason,
                now,
                actor.kind.value,
                actor.name,
                user_id,
                correlation_id,
            ],
        )
        # The levels' reserved, and their below-minimum flags as flag_minimum_crossings
        # sets them; the levels that cross below their minimum here are returned (the
        # outer SELECT reads the levels as they were before the UPDATE).
        levels = _table(StockLevel)
        cursor.execute(
            f"WITH u AS (UPDATE {levels} AS t SET reserved = t.reserved + s.quantity, "
            "updated_at = %s, below_minimum = t.on_hand - t.reserved - s.quantity < "
            "t.minimum_level FROM (SELECT level_id, sum(quantity) AS quantity FROM "
            "alloc_place GROUP BY level_id) AS s WHERE t.id = s.level_id AND t.id = ANY(%s) "
            f"RETURNING t.id, t.below_minimum) SELECT u.id FROM u JOIN {levels} AS o "
            "ON o.id = u.id WHERE u.below_minimum AND NOT o.below_minimum",
            [now, level_ids],
        )
        crossed = [pk for (pk,) in cursor.fetchall()]
        # Each line, and each order, is updated and its history row written from the
        # updated row in one statement.
        history, actor_params = audit.history_insert_sql(
            OrderLine,
            source="t JOIN alloc_order AS a ON a.order_id = t.order_id",
            reason="a.reason",
            correlation_id="%s",
            history_type="~",
        )
        cursor.execute(
            f"WITH t AS (UPDATE {_table(OrderLine)} AS l SET allocated_quantity = "
            "l.allocated_quantity + s.quantity FROM (SELECT line_id, sum(quantity) AS quantity "
            "FROM alloc_place GROUP BY line_id) AS s WHERE l.id = s.line_id AND l.id = ANY(%s) "
            "RETURNING l.*) " + history,
            [line_ids, *actor_params, correlation_id],
        )
        history, actor_params = audit.history_insert_sql(
            Order, source="t", reason="%s", correlation_id="%s", history_type="~"
        )
        cursor.execute(
            f"WITH t AS (UPDATE {_table(Order)} SET status = %s, version = version + 1, "
            "status_changed_at = %s, updated_at = %s WHERE status = %s AND id = ANY(%s) "
            f"RETURNING *) {history} RETURNING id, number, version",
            [
                OrderStatus.ALLOCATED.value,
                now,
                now,
                OrderStatus.APPROVED.value,
                sorted(line_reasons),
                *actor_params,
                reason,
                correlation_id,
            ],
        )
        orders = {pk: {"number": number, "version": version} for pk, number, version in cursor}
        if len(orders) != len(line_reasons):
            raise StaleVersion("An order left APPROVED while its allocation was written.")
        # Empty for the next write in the same transaction (a commit empties them too).
        cursor.execute("DELETE FROM alloc_place")
        cursor.execute("DELETE FROM alloc_order")
    _outbox(allocations, orders, actor, payload)
    return crossed


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _history(model, key: str, order_ids, *, keep, reason) -> dict[int, dict]:
    """History rows of the model's rows of these orders, as they are now (after the
    update); with `keep`, only the rows whose id is in it. Returns the rows by id."""
    attnames = [f.attname for f in model.history.model.tracked_fields]
    rows = {}
    for chunk in chunked(order_ids):
        for row in model.objects.filter(**{f"{key}__in": chunk}).order_by().values(*attnames):
            if keep is None or row["id"] in keep:
                rows[row["id"]] = row
    audit.bulk_history(
        model,
        list(rows.values()),
        history_type="~",
        reasons=[reason(pk) for pk in rows],
        correlation_ids=[correlation.get()] * len(rows),
    )
    return rows


def _outbox(allocations, orders, actor, payload) -> None:
    outbox.publish_many(
        [
            {
                "event_type": "order.allocated",
                "aggregate_type": "order",
                "aggregate_id": a.order_id,
                "payload": {
                    "number": orders[a.order_id]["number"],
                    "from": OrderStatus.APPROVED.value,
                    "to": OrderStatus.ALLOCATED.value,
                    "version": orders[a.order_id]["version"],
                    "actor": actor.as_payload(),
                    "reason": None,
                    "warehouses": a.warehouses,
                    **payload,
                },
            }
            for a in allocations
        ]
    )
