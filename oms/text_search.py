"""Free-text search over short text columns: any part of the text on PostgreSQL and
SQLite alike, served on PostgreSQL by trigram indexes.

Django writes a case-insensitive "contains" as UPPER(column::text) LIKE UPPER('%text%');
PostgreSQL serves that from a GIN index of the same expression with the pg_trgm operator
class, for text of at least three characters (a trigram). Shorter text says too little
to search inside the values, so it matches their start (served by the prefix indexes of
migration orders 0006 where there are some).

The indexes exist on PostgreSQL only: `trigram_indexes()` makes the migration operations
that create the pg_trgm extension and the indexes there and do nothing on SQLite, where
the same lookups run as a plain LIKE."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.models import Q
from django.db.models.functions import Upper

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import ProjectState, StateApps

# The shortest text searched anywhere in a value; shorter text matches the start.
TRIGRAM_MIN_LENGTH = 3


def text_match(fields: list[str], text: str) -> Q:
    """Rows whose fields hold the text anywhere (or, for text shorter than a trigram,
    at their start), in any case."""
    lookup = "icontains" if len(text) >= TRIGRAM_MIN_LENGTH else "istartswith"
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__{lookup}": text})
    return condition


def trigram_index(column: str, name: str) -> GinIndex:
    """A GIN trigram index of UPPER(column), the expression Django's icontains reads."""
    # django.contrib.postgres (an installed app) makes OpClass an index expression's
    # outermost wrapper, so the SQL is ((UPPER(column)) gin_trgm_ops).
    return GinIndex(OpClass(Upper(column), name="gin_trgm_ops"), name=name)


class TrigramExtensionOnPostgres(TrigramExtension):
    """pg_trgm on PostgreSQL; nothing on other databases, forwards or backwards (the
    extension stays when migrated back: other indexes may use it)."""

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        pass


def trigram_indexes(app_label: str, model_name: str, indexes: dict[str, str]) -> list:
    """The migration operations that create the pg_trgm extension and, for `indexes`
    ({index name: column}), the trigram indexes on PostgreSQL, and drop them when
    migrated back. On SQLite they do nothing. The indexes are not in the models' Meta
    (SQLite cannot make them), so the migration state does not know them."""

    def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        for name, column in indexes.items():
            schema_editor.add_index(model, trigram_index(column, name))
        # The planner knows the indexed expressions' values only once it is analyzed.
        schema_editor.execute(f"ANALYZE {schema_editor.quote_name(model._meta.db_table)}")

    def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in indexes:
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    return [
        TrigramExtensionOnPostgres(),
        migrations.RunPython(create, drop, elidable=False),
    ]
