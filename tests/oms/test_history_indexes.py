"""The history of the tables written in bulk (orders, lines, design events) keeps only
the indexes its reads use: by object, and one plain index on the correlation id."""

import pytest
from django.db import connection

from orders.models import DesignEvent, Order, OrderLine

BULK_HISTORIES = [Order, OrderLine, DesignEvent]


def _indexed_columns(table: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return sorted(
        c["columns"]
        for c in constraints.values()
        if (c["index"] or c["unique"]) and not c["primary_key"]
    )


@pytest.mark.parametrize("model", BULK_HISTORIES, ids=lambda m: m.__name__)
def test_bulk_history_is_not_indexed_by_date_or_user(model):
    history = model.history.model

    assert not history._meta.get_field("history_date").db_index
    assert not history._meta.get_field("history_user").db_index
    # The order's own correlation id is a tracked field; the others get one plain index.
    correlation = history._meta.get_field("correlation_id")
    assert not correlation.db_index
    if model is not Order:
        assert [i.fields for i in history._meta.indexes] == [["correlation_id"]]


@pytest.mark.django_db
@pytest.mark.postgres
def test_line_history_has_only_the_indexes_its_reads_use():
    table = OrderLine.history.model._meta.db_table

    # By order and by correlation id; no line, pattern, date or user index.
    assert _indexed_columns(table) == [["correlation_id"], ["order_id"]]


@pytest.mark.django_db
@pytest.mark.postgres
def test_lines_and_revisions_are_found_by_order_through_their_unique_index():
    lines = _indexed_columns(OrderLine._meta.db_table)

    assert ["order_id", "item_id"] in lines
    assert ["order_id"] not in lines
    assert ["order_id"] not in _indexed_columns("orders_orderrevision")
