"""Bulk writes (COPY on PostgreSQL): ids, values and constraints as with the ORM."""

import pytest
from django.db import IntegrityError, transaction

from oms.bulk import insert_rows, rows_by_ids, update_rows
from oms.models import OutboxEvent
from tests import factories
from warehouse.ledger.models import StockLevel

pytestmark = pytest.mark.django_db


def test_inserted_rows_get_ids_and_keep_their_values():
    events = [
        OutboxEvent(
            event_type="test.bulk",
            aggregate_type="order",
            aggregate_id=str(n),
            payload={"n": n, "lines": [{"item": "A", "quantity": n}], "text": "ü \\ \t x"},
        )
        for n in range(3)
    ]
    with transaction.atomic():
        insert_rows(OutboxEvent, events)
    assert all(e.pk for e in events)
    stored = OutboxEvent.objects.get(pk=events[2].pk)
    assert stored.payload == {"n": 2, "lines": [{"item": "A", "quantity": 2}], "text": "ü \\ \t x"}
    assert stored.created_at is not None


def test_updated_rows_change_only_the_named_fields():
    order = factories.make_order(lines=[(factories.ItemFactory(), 2), (factories.ItemFactory(), 3)])
    lines = list(order.lines.order_by("pk"))
    for line in lines:
        line.quantity += 10
        line.allocated_quantity = 99  # not named: stays
    with transaction.atomic():
        update_rows(type(lines[0]), lines, ["quantity"])
    assert [(ln.quantity, ln.allocated_quantity) for ln in order.lines.order_by("pk")] == [
        (12, 0),
        (13, 0),
    ]


def test_rows_by_ids_reads_the_named_columns_in_primary_key_order():
    warehouse = factories.WarehouseFactory()
    items = [factories.ItemFactory() for _ in range(3)]
    for item, quantity in zip(items, (5, 7, 9), strict=True):
        factories.stock(warehouse, item, quantity)
    levels = [StockLevel.objects.get(warehouse=warehouse, item=item) for item in items]
    wanted = [levels[2].pk, levels[0].pk, levels[2].pk, 10**12]  # unsorted, repeated, unknown
    with transaction.atomic():
        locked = rows_by_ids(StockLevel, wanted, ["pk", "on_hand"], lock=True)
    assert locked == [(levels[0].pk, 5), (levels[2].pk, 9)]
    assert rows_by_ids(StockLevel, [], ["pk"]) == []


def test_the_database_constraints_hold():
    warehouse, item = factories.WarehouseFactory(), factories.ItemFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(StockLevel, [StockLevel(warehouse=warehouse, item=item, on_hand=-1)])


def test_gc_paused_pauses_the_collector_for_its_block_and_nested_blocks():
    import gc

    from oms.bulk import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still runs
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("the block failed")
    assert gc.isenabled()


def test_insert_missing_adds_new_rows_and_keeps_the_rows_already_there():
    from oms.bulk import insert_missing
    from orders.models import DesignStream

    kept, new = factories.ProjectFactory(), factories.ProjectFactory()
    DesignStream.objects.create(project=kept, order_type="radio", bom={"IT-1": 2})
    with transaction.atomic():
        insert_missing(
            DesignStream,
            [
                DesignStream(project=kept, order_type="radio"),
                DesignStream(project=new, order_type="radio", bom={"IT-2": 1}),
                DesignStream(project=new, order_type="radio"),  # twice in one call
            ],
        )
    streams = {s.project_id: s.bom for s in DesignStream.objects.all()}
    assert streams == {kept.pk: {"IT-1": 2}, new.pk: {"IT-2": 1}}
