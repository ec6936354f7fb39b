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


def add_to_lines(field_name: str, deltas: Mapping[int, int], reasons: Mapping[int, str]) -> None:
    """Add each line's delta (by line id) to a quantity, with a history row per line
    whose change reason is the line's in `reasons`."""
    if not deltas:
        return
    if connection.vendor != "postgresql":
        add_to_rows(OrderLine, field_name, deltas)
        _history(OrderLine, list(deltas), reason=reasons.__getitem__)
        return
    names = identifiers(OrderLine, field_name)
    history, actor_params = audit.history_insert_sql(
        OrderLine,
        source=sql.SQL("t"),
        reason=sql.SQL("t.change_reason"),
        correlation_id=sql.Placeholder(),
        history_type="~",
    )
    statement = sql.SQL(
        "WITH t AS (UPDATE {table} AS l SET {field} = l.{field} + s.delta FROM "
        "unnest(%s::bigint[], %s::integer[], %s::text[]) AS s(id, delta, reason) "
        "WHERE l.{pk} = s.id AND l.{pk} = ANY(%s) RETURNING l.*, s.reason AS change_reason) "
    ).format(table=names["table"], pk=names["pk"], field=names[field_name])
    ids = list(deltas)
    with connection.cursor() as cursor:
        execute(
            cursor,
            statement + history,
            [
                ids,
                list(deltas.values()),
                [reasons[pk] for pk in ids],
                ids,
                *actor_params,
                correlation.get(),
            ],
        )


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
        rows = _history(Order, order_ids, reason=lambda pk: reason)
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
    model: audit.AuditedModel, ids: list[int], *, reason: Callable[[int], str]
) -> dict[int, dict[str, Any]]:
    """History rows of these rows as they are now (after the update). Returns the rows
    by id."""
    attnames = [f.attname for f in model.history.model.tracked_fields]
    rows: dict[int, dict[str, Any]] = {}
    for chunk in chunked(ids):
        for row in model.objects.filter(pk__in=chunk).order_by().values(*attnames):
            rows[row["id"]] = row
    audit.bulk_history(
        model,
        list(rows.values()),
        history_type="~",
        reasons=[reason(pk) for pk in rows],
        correlation_ids=[correlation.get()] * len(rows),
    )
    return rows
