"""Writing orders and their lines in bulk, for a transition made on many orders at once
(an allocation run's chunk): a fixed number of statements however many rows, each row
with its history row. On PostgreSQL each table is updated, and its history written from
the updated rows, in one statement composed with psycopg.sql (columns by name); elsewhere
with F() updates and bulk history inserts.

Callers hold the orders locked and have checked the transition (orders.services).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone
from psycopg import sql

from oms import audit, correlation
from oms.bulk import add_to_rows, chunked, execute, identifiers
from oms.errors import StaleVersion
from orders.models import Order, OrderLine

# A write's line deltas and order reasons, staged on the server (PostgreSQL): sent once,
# with COPY. Made once per database session and emptied at every commit, so that a run's
# many short transactions do not each create and drop tables.
DELTAS = sql.Identifier("orders_line_deltas")
REASONS = sql.Identifier("orders_reasons")
STAGE = (
    sql.SQL(
        "CREATE TEMP TABLE IF NOT EXISTS {} (line_id bigint, delta integer) ON COMMIT DELETE ROWS"
    ).format(DELTAS),
    sql.SQL(
        "CREATE TEMP TABLE IF NOT EXISTS {} (order_id bigint PRIMARY KEY, reason text) "
        "ON COMMIT DELETE ROWS"
    ).format(REASONS),
)


def add_to_lines(field_name: str, deltas: Mapping[int, int], reasons: Mapping[int, str]) -> None:
    """Add each line's delta (by line id) to a quantity, with a history row per line
    whose change reason is its order's in `reasons` (by order id)."""
    if not deltas:
        return
    if connection.vendor != "postgresql":
        add_to_rows(OrderLine, field_name, deltas)
        _history(OrderLine, list(deltas), reason=lambda row: reasons[row["order_id"]])
        return
    names = identifiers(OrderLine, field_name, "order")
    history, actor_params = audit.history_insert_sql(
        OrderLine,
        source=sql.SQL("t JOIN {reasons} AS r ON r.order_id = t.{order}").format(
            reasons=REASONS, order=names["order"]
        ),
        reason=sql.SQL("r.reason"),
        correlation_id=sql.Placeholder(),
        history_type="~",
    )
    # The lines are also named by primary key (= ANY), so that PostgreSQL reaches them
    # through their index whatever the size of the write.
    statement = sql.SQL(
        "WITH t AS (UPDATE {table} AS l SET {field} = l.{field} + s.delta FROM {deltas} AS s "
        "WHERE l.{pk} = s.line_id AND l.{pk} = ANY(%s) RETURNING l.*) "
    ).format(table=names["table"], pk=names["pk"], field=names[field_name], deltas=DELTAS)
    with connection.cursor() as cursor:
        for stage in STAGE:
            execute(cursor, stage)
        with connection.wrap_database_errors:
            with cursor.cursor.copy(sql.SQL("COPY {} FROM STDIN").format(DELTAS)) as copy:
                for line_id, delta in deltas.items():
                    copy.write_row((line_id, delta))
            with cursor.cursor.copy(sql.SQL("COPY {} FROM STDIN").format(REASONS)) as copy:
                for order_id, reason in reasons.items():
                    copy.write_row((order_id, reason))
        execute(cursor, statement + history, [sorted(deltas), *actor_params, correlation.get()])
        # Empty for the next write in the same transaction (a commit empties them too).
        for table in (DELTAS, REASONS):
            execute(cursor, sql.SQL("DELETE FROM {}").format(table))


def move_orders(
    order_ids: list[int], *, source: str, target: str, reason: str
) -> dict[int, tuple[str, int]]:
    """Move the orders from `source` to `target` status, a new version each, with a
    history row per order. Returns each order's number and new version. Refuses
    (StaleVersion) if any order is no longer in `source`."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        for chunk in chunked(order_ids):
            updated = Order.objects.filter(pk__in=chunk, status=source).update(
                status=target, version=F("version") + 1, status_changed_at=now, updated_at=now
            )
            if updated != len(chunk):
                raise StaleVersion(f"An order left {source} while it was being moved to {target}.")
        rows = _history(Order, order_ids, reason=lambda row: reason)
        return {pk: (row["number"], row["version"]) for pk, row in rows.items()}
    names = identifiers(Order, "status", "version", "status_changed_at", "updated_at", "number")
    history, actor_params = audit.history_insert_sql(
        Order,
        source=sql.SQL("t"),
        reason=sql.Placeholder(),
        correlation_id=sql.Placeholder(),
        history_type="~",
    )
    statement = sql.SQL(
        "WITH t AS (UPDATE {table} SET {status} = %s, {version} = {version} + 1, "
        "{status_changed_at} = %s, {updated_at} = %s WHERE {status} = %s AND {pk} = ANY(%s) "
        "RETURNING *) "
    ).format(**names)
    returning = sql.SQL(" RETURNING {pk}, {number}, {version}").format(**names)
    with connection.cursor() as cursor:
        execute(
            cursor,
            statement + history + returning,
            [target, now, now, source, sorted(order_ids), *actor_params, reason, correlation.get()],
        )
        moved = {pk: (number, version) for pk, number, version in cursor}
    if len(moved) != len(set(order_ids)):
        raise StaleVersion(f"An order left {source} while it was being moved to {target}.")
    return moved


def _history(
    model: audit.AuditedModel, ids: list[int], *, reason: Callable[[dict[str, Any]], str]
) -> dict[int, dict[str, Any]]:
    """History rows of these rows as they are now (after the update), each with the
    reason `reason` gives for its row. Returns the rows by id."""
    attnames = [f.attname for f in model.history.model.tracked_fields]
    rows: dict[int, dict[str, Any]] = {}
    for chunk in chunked(ids):
        for row in model.objects.filter(pk__in=chunk).order_by().values(*attnames):
            rows[row["id"]] = row
    audit.bulk_history(
        model,
        list(rows.values()),
        history_type="~",
        reasons=[reason(row) for row in rows.values()],
        correlation_ids=[correlation.get()] * len(rows),
    )
    return rows
