"""Writing many rows fast: COPY on PostgreSQL, bulk_create/bulk_update elsewhere.

Like bulk_create and bulk_update, these send no signals and call no save(); field
defaults and auto_now values are applied, and the database's constraints hold as for
any insert or update. Primary keys are taken from the table's sequence first, so the
objects have their ids afterwards, as with bulk_create.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import F, Field, Model
from psycopg import sql

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.utils import CursorWrapper
    from django.db.models.options import Options

M = TypeVar("M", bound=Model)
T = TypeVar("T")

BATCH = 1000


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block that builds many objects at
    once (a batch of thousands of rows). Left on, it runs every few hundred new objects
    and, as the batch grows, scans every live object again and again: a tenth or more
    of the batch's time, to find almost nothing (the batch's objects are freed by
    reference counting as usual). Cycles made in the block are collected after it."""
    if not gc.isenabled():  # already paused by an enclosing block
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def insert_rows(model: type[M], objs: Sequence[M]) -> None:
    """Insert the objects, giving each its primary key."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=BATCH)
        return
    meta = model._meta
    with connection.cursor() as cursor:
        if meta.pk.attname in {f.attname for f in meta.concrete_fields} and any(
            o.pk is None for o in objs
        ):
            for obj, pk in zip(objs, _next_ids(cursor, meta, len(objs)), strict=True):
                obj.pk = pk
        _copy_objects(cursor, meta.db_table, list(meta.concrete_fields), objs, add=True)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_missing(model: type[M], objs: Sequence[M]) -> None:
    """Insert the objects whose rows do not exist yet: where a row would break a unique
    constraint, the row already there is kept, as with bulk_create(ignore_conflicts=
    True). The objects get no ids."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=BATCH, ignore_conflicts=True)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    with connection.cursor() as cursor, _staged(cursor, meta, fields, objs, add=True) as staged:
        execute(
            cursor,
            sql.SQL(
                "INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged} "
                "ON CONFLICT DO NOTHING"
            ).format(table=sql.Identifier(meta.db_table), columns=_columns(fields), staged=staged),
        )


def insert_values(
    model: type[Model], rows: Sequence[dict[str, Any]], *, with_ids: bool = False
) -> None:
    """Insert rows given as {attname: value}, all with the same keys, without building
    model instances (for large writes). With `with_ids`, each row gets its primary key
    (under the pk's attname), as bulk_create gives objects theirs."""
    if not rows:
        return
    meta = model._meta
    pk = meta.pk.attname
    if connection.vendor != "postgresql":
        objs = model._default_manager.bulk_create([model(**row) for row in rows], batch_size=BATCH)
        if with_ids:
            for row, obj in zip(rows, objs, strict=True):
                row[pk] = obj.pk
        return
    if with_ids:
        with connection.cursor() as cursor:
            for row, value in zip(rows, _next_ids(cursor, meta, len(rows)), strict=True):
                row[pk] = value
    by_attname = {f.attname: f for f in meta.concrete_fields}
    fields = [by_attname[name] for name in rows[0]]
    conn = connections[DEFAULT_DB_ALIAS]
    converters = [
        (lambda v, f=f: f.get_db_prep_save(v, conn))
        if f.get_internal_type() == "JSONField"
        else None
        for f in fields
    ]
    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(
        table=sql.Identifier(meta.db_table), columns=_columns(fields)
    )
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        if not any(converters):
            for row in rows:
                copy.write_row(row.values())
            return
        for row in rows:
            copy.write_row(
                [v if c is None else c(v) for v, c in zip(row.values(), converters, strict=True)]
            )


def update_rows(model: type[M], objs: Sequence[M], field_names: list[str]) -> None:
    """Write the named fields of the objects (by primary key)."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, field_names, batch_size=BATCH)
        return
    meta = model._meta
    fields = [meta.pk, *(_concrete(meta, name) for name in field_names)]
    with connection.cursor() as cursor, _staged(cursor, meta, fields, objs, add=False) as staged:
        execute(
            cursor,
            sql.SQL(
                "UPDATE {table} AS t SET {assignments} FROM {staged} AS u WHERE t.{pk} = u.{pk}"
            ).format(
                table=sql.Identifier(meta.db_table),
                assignments=sql.SQL(", ").join(
                    sql.SQL("{column} = u.{column}").format(column=_identifier(f))
                    for f in fields[1:]
                ),
                staged=staged,
                pk=_identifier(meta.pk),
            ),
        )


def delete_rows(model: type[Model], pks: Sequence[Any]) -> None:
    """Delete rows by primary key in one statement. Like the writes above it sends no
    signals and collects nothing, so the caller writes the history; a row that others
    still refer to is refused by the database's foreign keys."""
    if not pks:
        return
    meta = model._meta
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            execute(
                cursor,
                sql.SQL("DELETE FROM {table} WHERE {pk} = ANY(%s)").format(
                    table=sql.Identifier(meta.db_table), pk=_identifier(meta.pk)
                ),
                [list(pks)],
            )
            return
        # Elsewhere (SQLite) in chunks of placeholders, the names quoted by Django.
        quote = connection.ops.quote_name
        delete = f"DELETE FROM {quote(meta.db_table)} WHERE {quote(_column_name(meta.pk))}"
        for chunk in chunked(pks, BATCH):
            cursor.execute(f"{delete} IN ({', '.join(['%s'] * len(chunk))})", chunk)


def identifiers(model: type[Model], *field_names: str) -> dict[str, sql.Identifier]:
    """The names to compose SQL for the model's table with (psycopg.sql): `table`, `pk`
    and each named field's column, so that a statement names its columns instead of
    relying on their order."""
    meta = model._meta
    return {
        "table": sql.Identifier(meta.db_table),
        **{name: _identifier(_concrete(meta, name)) for name in ("pk", *field_names)},
    }


def add_to_rows(
    model: type[Model],
    field_name: str,
    deltas: Mapping[int, int],
    *,
    also: Mapping[str, Any] | None = None,
) -> None:
    """Add each row's delta (by primary key) to a numeric field, as F(field) + delta
    would, so a concurrent change is never overwritten; `also` sets other fields to one
    value on every row (e.g. a timestamp). One UPDATE per distinct delta and chunk of
    rows, inside the caller's transaction."""
    by_delta: defaultdict[int, list[int]] = defaultdict(list)
    for pk, delta in deltas.items():
        by_delta[delta].append(pk)
    for delta, pks in by_delta.items():
        for chunk in chunked(pks):
            model._default_manager.filter(pk__in=chunk).update(
                **{field_name: F(field_name) + delta}, **(also or {})
            )


def rows_by_ids(
    model: type[Model], ids: Iterable[int], columns: list[str], *, lock: bool = False
) -> list[tuple[Any, ...]]:
    """The `columns` of the rows with these primary keys, as tuples in primary-key
    order; with `lock`, the rows are locked FOR UPDATE in that order. On PostgreSQL the
    ids go as one array parameter (`= ANY`): one short statement for thousands of ids,
    where an IN list costs a parameter, and its conversion in Python, per id."""
    ids = sorted(set(ids))
    if not ids:
        return []
    if connection.vendor != "postgresql":
        rows = model._default_manager.filter(pk__in=ids).order_by("pk")
        return list((rows.select_for_update() if lock else rows).values_list(*columns))
    meta = model._meta
    statement = sql.SQL(
        "SELECT {columns} FROM {table} WHERE {pk} = ANY(%s) ORDER BY {pk}"
        + (" FOR UPDATE" if lock else "")
    )
    with connection.cursor() as cursor:
        execute(
            cursor,
            statement.format(
                columns=_columns([_concrete(meta, c) for c in columns]),
                table=sql.Identifier(meta.db_table),
                pk=_identifier(meta.pk),
            ),
            [ids],
        )
        return cursor.fetchall()


def chunked(values: Iterable[T], size: int = BATCH * 5) -> Iterator[list[T]]:
    """The values in lists of at most `size` (for IN lists of many ids)."""
    chunk: list[T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _next_ids(cursor: CursorWrapper, meta: Options[Any], count: int) -> list[int]:
    """Take `count` primary keys from the table's sequence."""
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [meta.db_table, meta.pk.column, count],
    )
    return [value for (value,) in cursor.fetchall()]


@contextmanager
def _staged(
    cursor: CursorWrapper,
    meta: Options[Any],
    fields: Sequence[Field[Any, Any]],
    objs: Sequence[Model],
    *,
    add: bool,
) -> Iterator[sql.Identifier]:
    """The fields of the objects COPYed into a temporary table with the same columns as
    the model's table; yields its name, and drops it after the block."""
    staged = sql.Identifier("oms_bulk_staged")
    execute(
        cursor,
        sql.SQL(
            "CREATE TEMP TABLE {staged} ON COMMIT DROP AS SELECT {columns} FROM {table} "
            "WITH NO DATA"
        ).format(staged=staged, columns=_columns(fields), table=sql.Identifier(meta.db_table)),
    )
    _copy_objects(cursor, staged, fields, objs, add=add)
    yield staged
    execute(cursor, sql.SQL("DROP TABLE {staged}").format(staged=staged))


def _copy_objects(
    cursor: CursorWrapper,
    table: str | sql.Identifier,
    fields: Sequence[Field[Any, Any]],
    objs: Sequence[Model],
    *,
    add: bool,
) -> None:
    """COPY the fields of the objects into the table (add: as for an insert, filling in
    auto_now_add)."""
    values = _value_readers(fields, add=add)
    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(
        table=table if isinstance(table, sql.Identifier) else sql.Identifier(table),
        columns=_columns(fields),
    )
    with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        for obj in objs:
            copy.write_row([value(obj) for value in values])


def _value_readers(fields: Sequence[Field[Any, Any]], *, add: bool) -> list[Callable[[Model], Any]]:
    """For each field, how to read its database value from an object. psycopg adapts
    plain values itself; fields that fill themselves in (auto_now) or need converting
    (JSON) go through Django's own preparation."""
    conn = connections[DEFAULT_DB_ALIAS]
    readers: list[Callable[[Model], Any]] = []
    for field in fields:
        if (
            field.get_internal_type() == "JSONField"
            or getattr(field, "auto_now", False)
            or (add and getattr(field, "auto_now_add", False))
        ):
            readers.append(partial(_prepared, field, add, conn))
        else:
            readers.append(attrgetter(field.attname))
    return readers


def _prepared(field: Field[Any, Any], add: bool, conn: BaseDatabaseWrapper, obj: Model) -> Any:
    """The field's value on the object as Django prepares it for the database."""
    return field.get_db_prep_save(
        field.pre_save(obj, add) if add else getattr(obj, field.attname), conn
    )


def _concrete(meta: Options[Any], name: str) -> Field[Any, Any]:
    """The model's field of that name ("pk": the primary key), one with a column."""
    field = meta.pk if name == "pk" else meta.get_field(name)
    assert isinstance(field, Field), f"{name} is not a field with a column"
    return field


def execute(
    cursor: CursorWrapper, statement: sql.Composable, params: Sequence[Any] | None = None
) -> None:
    """Run a statement composed with psycopg.sql (PostgreSQL) on a Django cursor."""
    cursor.execute(statement.as_string(cursor.connection), params)


def _columns(fields: Sequence[Field[Any, Any]]) -> sql.Composed:
    """The fields' columns, by name, for a column list."""
    return sql.SQL(", ").join(_identifier(f) for f in fields)


def _identifier(field: Field[Any, Any]) -> sql.Identifier:
    return sql.Identifier(_column_name(field))


def _column_name(field: Field[Any, Any]) -> str:
    """The field's column, as the table names it."""
    assert field.column is not None, f"{field} has no column"
    return field.column
