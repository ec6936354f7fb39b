"""Every change to an audited model records who made it, what kind of actor, and why.

Writes run inside `acting(actor, reason=...)`. The historical record created by
django-simple-history is stamped from that context (and the correlation id); a change
made outside any actor context is refused, so no change can be anonymous.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeAlias

from django.db import connection
from django.db.models import Model, QuerySet
from django.utils import timezone
from psycopg import sql

from oms import correlation
from oms.actors import Actor
from oms.bulk import execute, insert_values

# A model class with simple-history's HistoricalRecords (`model.history`), which has no
# types of its own.
AuditedModel: TypeAlias = Any


class MissingActor(RuntimeError):
    """An audited model was written with no actor in context."""


@dataclass(frozen=True)
class AuditContext:
    actor: Actor
    reason: str = ""


_context: ContextVar[AuditContext | None] = ContextVar("audit_context", default=None)


@contextmanager
def acting(actor: Actor, *, reason: str = "") -> Iterator[None]:
    token = _context.set(AuditContext(actor=actor, reason=reason))
    try:
        yield
    finally:
        _context.reset(token)


def current_actor() -> Actor | None:
    context = _context.get()
    return context.actor if context else None


def current_reason() -> str:
    """The change reason of the write in progress ("" when none is given)."""
    context = _context.get()
    return context.reason if context else ""


def stamp_historical_record(sender: type[Model], history_instance: Any, **kwargs: object) -> None:
    context = _context.get()
    if context is None:
        raise MissingActor(
            f"{sender.__name__} written without an actor; wrap the write in audit.acting()."
        )
    actor = context.actor
    history_instance.history_user = actor.user if actor.is_person else None
    history_instance.actor_kind = actor.kind
    history_instance.actor_name = actor.name
    history_instance.correlation_id = correlation.get()
    if not history_instance.history_change_reason:
        history_instance.history_change_reason = context.reason


def refuse_anonymous_write(sender: type[Model], **kwargs: object) -> None:
    """Stop a write to an audited model before it happens when no actor is known."""
    if _context.get() is None and hasattr(sender._meta, "simple_history_manager_attribute"):
        raise MissingActor(
            f"{sender.__name__} written without an actor; wrap the write in audit.acting()."
        )


def connect_signals() -> None:
    from django.db.models.signals import pre_delete, pre_save
    from simple_history.signals import pre_create_historical_record

    pre_save.connect(refuse_anonymous_write, dispatch_uid="oms.audit.refuse_save")
    pre_delete.connect(refuse_anonymous_write, dispatch_uid="oms.audit.refuse_delete")
    pre_create_historical_record.connect(
        stamp_historical_record, dispatch_uid="oms.audit.stamp_historical_record"
    )


def bulk_history(
    model: AuditedModel,
    instances: Iterable[Model | dict[str, Any]],
    *,
    history_type: str,
    reasons: Iterable[str],
    correlation_ids: Iterable[str],
) -> None:
    """History rows for objects (or {attname: value} rows) written in bulk, which send no
    signals, each with its own reason and correlation id and the current actor."""
    common = _common_columns(model, history_type)
    attnames = [field.attname for field in model.history.model.tracked_fields]
    rows = []
    for instance, reason, correlation_id in zip(instances, reasons, correlation_ids, strict=True):
        if isinstance(instance, dict):  # rows written with bulk.insert_values
            row = {name: instance[name] for name in attnames}
        else:
            row = {name: getattr(instance, name) for name in attnames}
        row.update(common, history_change_reason=reason, correlation_id=correlation_id)
        rows.append(row)
    insert_values(model.history.model, rows)


def bulk_history_of(
    queryset: QuerySet[Any],
    *,
    history_type: str,
    key: str,
    reasons: dict[Any, tuple[str, str]],
) -> None:
    """History rows for the rows a queryset selects, as they are in the database now,
    with the current actor. Each row's reason and correlation id are looked up by the
    value of its `key` column: reasons = {key value: (reason, correlation id)}.

    On PostgreSQL the rows never leave the database (one INSERT ... SELECT), which is
    what makes history affordable for the hundreds of thousands of lines an ingestion
    batch writes; elsewhere they are read and written with bulk_history."""
    model = queryset.model
    attnames = [field.attname for field in model.history.model.tracked_fields]
    if connection.vendor != "postgresql":
        rows = list(queryset.values(*attnames))
        bulk_history(
            model,
            rows,
            history_type=history_type,
            reasons=[reasons[row[key]][0] for row in rows],
            correlation_ids=[reasons[row[key]][1] for row in rows],
        )
        return
    select_sql, select_params = queryset.order_by().values(*attnames).query.sql_with_params()
    key_type = model._meta.get_field(key).db_type(connection)
    statement, params = history_insert_sql(
        model,
        source=sql.SQL(
            "({select}) AS t JOIN unnest(%s::{key_type}[], %s::text[], %s::text[]) "
            "AS r(key, reason, correlation_id) ON t.{key} = r.key"
        ).format(select=sql.SQL(select_sql), key_type=sql.SQL(key_type), key=sql.Identifier(key)),
        reason=sql.SQL("r.reason"),
        correlation_id=sql.SQL("r.correlation_id"),
        history_type=history_type,
    )
    keys = list(reasons)
    with connection.cursor() as cursor:
        execute(
            cursor,
            statement,
            [
                *params,
                *select_params,
                keys,
                [reasons[k][0] for k in keys],
                [reasons[k][1] for k in keys],
            ],
        )


def history_insert_sql(
    model: AuditedModel,
    *,
    source: sql.Composable,
    reason: sql.Composable,
    correlation_id: sql.Composable,
    history_type: str,
) -> tuple[sql.Composed, list[Any]]:
    """An INSERT ... SELECT of history rows (PostgreSQL, composed with psycopg.sql) for
    the model's rows, which `source` (a FROM clause) names `t`, with the current actor.
    `reason` and `correlation_id` are SQL expressions for each row's. Returns the
    statement and the parameters of its actor columns, which come before any parameters
    of `source`, `reason` and `correlation_id` in the statement."""
    history = model.history.model
    common = _common_columns(model, history_type)
    # A model's own correlation id (an order's) is replaced by the change's.
    tracked = [f.column for f in history.tracked_fields if f.column != "correlation_id"]
    columns = [*tracked, *common, "history_change_reason", "correlation_id"]
    statement = sql.SQL(
        "INSERT INTO {table} ({columns}) SELECT {tracked}, {common}, {reason}, "
        "{correlation_id} FROM {source}"
    ).format(
        table=sql.Identifier(history._meta.db_table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        tracked=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in tracked),
        common=sql.SQL(", ").join(sql.Placeholder() * len(common)),
        reason=reason,
        correlation_id=correlation_id,
        source=source,
    )
    return statement, list(common.values())


def _common_columns(model: AuditedModel, history_type: str) -> dict[str, Any]:
    """The history columns that are the same for every row of one bulk write."""
    context = _context.get()
    if context is None:
        raise MissingActor(f"{model.__name__} written in bulk without an actor.")
    actor = context.actor
    return {
        "history_date": timezone.now(),
        "history_type": history_type,
        "history_user_id": actor.user.pk if actor.is_person and actor.user else None,
        "actor_kind": actor.kind.value,
        "actor_name": actor.name,
    }
