"""Stock levels, the ledger that explains them, shipments and returns."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from oms.actors import Actor
from oms.errors import ActionForbidden, InsufficientStock, ValidationFailed
from orders import services
from orders.choices import OrderStatus
from tests.factories import SETUP, ItemFactory, WarehouseFactory, order_in, stock
from warehouse.ledger.choices import MOVEMENT_EFFECTS
from warehouse.ledger.models import StockLevel, StockMovement
from warehouse.ledger.services import stock_adjust

pytestmark = pytest.mark.django_db


def ledger_matches(level: StockLevel) -> bool:
    totals = [0, 0, 0]
    rows = (
        StockMovement.objects.filter(warehouse_id=level.warehouse_id, item_id=level.item_id)
        .values("kind")
        .annotate(q=Sum("quantity"))
    )
    for row in rows:
        for i, sign in enumerate(MOVEMENT_EFFECTS[row["kind"]]):
            totals[i] += sign * row["q"]
    level.refresh_from_db()
    return totals == [level.on_hand, level.reserved, level.damaged]


@pytest.fixture
def level():
    warehouse, item = WarehouseFactory(), ItemFactory()
    stock(warehouse, item, 10)
    return StockLevel.objects.get(warehouse=warehouse, item=item)


@pytest.mark.parametrize(
    "change",
    [{"on_hand": -1}, {"reserved": -1}, {"reserved": 11}, {"damaged": -2}, {"minimum_level": -1}],
)
def test_database_refuses_impossible_stock_even_without_python(level, change):
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(pk=level.pk).update(**change)


def test_database_refuses_over_reservation_in_raw_sql(level):
    table = StockLevel._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET reserved = on_hand + 1 WHERE id = %s", [level.pk])


def test_database_refuses_zero_or_negative_movements(level):
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.create(
            kind="receipt",
            quantity=-3,
            warehouse_id=level.warehouse_id,
            item_id=level.item_id,
            actor_kind="system",
            actor_name="t",
        )


def test_adjustment_writes_a_movement_and_changes_on_hand(level):
    movement = stock_adjust(
        warehouse=level.warehouse, item=level.item, quantity=-4, reason="cycle count", actor=SETUP
    )

    level.refresh_from_db()
    assert level.on_hand == 6
    assert (movement.kind, movement.quantity, movement.reason) == ("adjustment", -4, "cycle count")
    assert ledger_matches(level)


def test_adjustment_cannot_take_away_reserved_stock():
    warehouse = WarehouseFactory()
    order = order_in(OrderStatus.ALLOCATED, warehouse=warehouse)
    line = order.lines.get()

    with pytest.raises(InsufficientStock):
        stock_adjust(warehouse=warehouse, item=line.item, quantity=-1, reason="count", actor=SETUP)


def test_adjustment_needs_a_reason_and_permission(level, viewer):
    with pytest.raises(ValidationFailed):
        stock_adjust(
            warehouse=level.warehouse, item=level.item, quantity=1, reason=" ", actor=SETUP
        )
    with pytest.raises(ActionForbidden):
        stock_adjust(
            warehouse=level.warehouse,
            item=level.item,
            quantity=1,
            reason="x",
            actor=Actor.person(viewer),
        )


def test_full_lifecycle_keeps_the_ledger_explaining_every_level():
    warehouse = WarehouseFactory()
    order_in(OrderStatus.PARTIALLY_RETURNED, warehouse=warehouse)

    for level in StockLevel.objects.filter(warehouse=warehouse):
        assert ledger_matches(level)


def test_short_shipment_issues_what_shipped_and_frees_the_rest():
    warehouse = WarehouseFactory()
    order = order_in(OrderStatus.RELEASED, warehouse=warehouse)
    line = order.lines.get()  # 5 allocated

    order = services.order_complete(order=order, actor=SETUP, shipped={line.pk: 3})

    line.refresh_from_db()
    level = StockLevel.objects.get(warehouse=warehouse, item=line.item)
    assert order.status == OrderStatus.CLOSED
    assert (line.allocated_quantity, line.released_quantity, line.outstanding_quantity) == (0, 3, 2)
    assert (level.on_hand, level.reserved) == (2, 0)
    assert order.history.latest() is not None
    assert ledger_matches(level)


def test_shipping_more_than_allocated_is_refused():
    order = order_in(OrderStatus.RELEASED)
    line = order.lines.get()

    with pytest.raises(ValidationFailed):
        services.order_complete(order=order, actor=SETUP, shipped={line.pk: line.quantity + 1})


def test_good_returns_go_back_on_hand_and_damaged_are_set_aside():
    warehouse = WarehouseFactory()
    order = order_in(OrderStatus.CLOSED, warehouse=warehouse)
    line = order.lines.get()  # 5 shipped

    services.order_record_return(
        order=order,
        warehouse=warehouse,
        actor=SETUP,
        lines=[
            services.ReturnSpec(line=line, quantity=2, condition="good", reason="surplus"),
            services.ReturnSpec(line=line, quantity=1, condition="damaged", reason="dented"),
        ],
    )

    level = StockLevel.objects.get(warehouse=warehouse, item=line.item)
    assert (level.on_hand, level.damaged, level.available) == (2, 1, 2)
    line.refresh_from_db()
    assert line.returned_quantity == 3
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_RETURNED
    assert ledger_matches(level)


def test_returning_everything_makes_the_order_fully_returned():
    warehouse = WarehouseFactory()
    order = order_in(OrderStatus.CLOSED, warehouse=warehouse)
    line = order.lines.get()
    spec = services.ReturnSpec(line=line, quantity=5, condition="good", reason="site cancelled")

    services.order_record_return(order=order, warehouse=warehouse, lines=[spec], actor=SETUP)

    order.refresh_from_db()
    assert order.status == OrderStatus.FULLY_RETURNED


def test_returning_more_than_shipped_is_refused():
    warehouse = WarehouseFactory()
    order = order_in(OrderStatus.CLOSED, warehouse=warehouse)
    line = order.lines.get()
    spec = services.ReturnSpec(line=line, quantity=6, condition="good", reason="x")

    with pytest.raises(ValidationFailed, match="does not fit"):
        services.order_record_return(order=order, warehouse=warehouse, lines=[spec], actor=SETUP)


def test_a_return_with_a_known_external_id_has_one_effect():
    warehouse = WarehouseFactory()
    order = order_in(OrderStatus.CLOSED, warehouse=warehouse)
    line = order.lines.get()
    spec = services.ReturnSpec(line=line, quantity=1, condition="good", reason="spare")

    first = services.order_record_return(
        order=order, warehouse=warehouse, lines=[spec], actor=SETUP, external_id="wms-77"
    )
    again = services.order_record_return(
        order=order, warehouse=warehouse, lines=[spec], actor=SETUP, external_id="wms-77"
    )

    assert first.pk == again.pk
    line.refresh_from_db()
    assert line.returned_quantity == 1


def test_reopened_order_needs_only_what_is_not_on_site():
    warehouse = WarehouseFactory()
    order = order_in(OrderStatus.PARTIALLY_RETURNED, warehouse=warehouse)  # 5 shipped, 1 back

    order = services.order_reopen(
        order=order, actor=SETUP, reason_code="return_reopened", reason_text="one unit faulty"
    )
    order = services.order_approve(order=order, actor=SETUP)
    order = services.order_allocate(order=order, warehouse=warehouse, actor=SETUP)

    line = order.lines.get()
    assert line.allocated_quantity == 1
