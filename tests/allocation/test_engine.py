"""The allocation engine serves orders: all or none, in rank order, from the serving
warehouses; and one order from a chosen warehouse, through the same write."""

import pytest

from allocation.choices import Result
from oms import audit
from oms.models import OutboxEvent
from orders import services as order_services
from orders.choices import OrderStatus
from orders.models import Order, OrderLine
from tests.allocation.builders import (
    allocate,
    available,
    outcome_of,
    status_of,
    stock_is_consistent,
)
from tests.factories import (
    SETUP,
    make_order,
    stock,
)
from warehouse.ledger.models import Allocation, StockMovement

pytestmark = pytest.mark.django_db


# --- Allocating -------------------------------------------------------------------------


def test_an_allocated_order_holds_its_stock_and_is_allocated_by_the_run(world):
    x, y = world.items[:2]
    stock(world.a, x, 10)
    stock(world.a, y, 10)
    order = world.approved([(x, 3), (y, 4)])

    run = allocate()

    assert (run.status, run.eligible, run.allocated, run.units_reserved) == ("succeeded", 1, 1, 7)
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert {(line.item_id, line.allocated_quantity) for line in order.lines.all()} == {
        (x.pk, 3),
        (y.pk, 4),
    }
    assert (available(world.a, x), available(world.a, y)) == (7, 6)
    reserves = StockMovement.objects.filter(kind="reserve", order_line__order=order)
    assert sorted(m.quantity for m in reserves) == [3, 4]
    assert {m.actor_name for m in reserves} == {f"allocation run #{run.pk}"}
    record = order.history.latest()
    assert (record.status, record.actor_kind, record.actor_name) == (
        "allocated",
        "system",
        f"allocation run #{run.pk}",
    )
    line_record = OrderLine.history.filter(order_id=order.pk).latest()
    assert line_record.allocated_quantity > 0
    assert line_record.history_change_reason == f"allocated at {world.a.code}"
    event = OutboxEvent.objects.filter(aggregate_id=str(order.pk)).latest("id")
    assert event.event_type == "order.allocated"
    assert event.payload["warehouses"] == [world.a.code]
    assert event.payload["allocation_run"] == run.pk
    assert event.payload["version"] == order.version
    outcome = outcome_of(run, order)
    assert (outcome.result, outcome.warehouses, outcome.units, outcome.rank) == (
        "allocated",
        world.a.code,
        7,
        1,
    )
    assert stock_is_consistent() == []


def test_one_short_line_leaves_the_whole_order_unallocated(world):
    x, y = world.items[:2]
    stock(world.a, x, 10)
    stock(world.a, y, 1)
    order = world.approved([(x, 3), (y, 2)])
    history = order.history.count()

    run = allocate()

    # then nothing is held, and a shortage is not a rejection: the order waits, approved
    assert status_of(order) == OrderStatus.APPROVED
    assert Allocation.objects.count() == 0
    assert available(world.a, x) == 10
    assert order.history.count() == history
    assert Order.objects.get(pk=order.pk).reason_code == ""
    outcome = outcome_of(run, order)
    assert outcome.result == Result.SHORT
    assert outcome.explanation["lines"] == [
        {
            "item": y.code,
            "needed": 2,
            "best_available": 1,
            "where": [{"warehouse": world.a.code, "available": 1}],
        }
    ]
    assert outcome.blocked_by.split() == [y.code]
    assert (run.short, run.allocated, run.units_reserved) == (1, 0, 0)


def test_a_lower_ranked_order_gets_the_stock_a_higher_one_could_not_use(world):
    x, y = world.items[:2]
    stock(world.a, x, 5)
    stock(world.a, y, 1)
    first = world.approved([(x, 5), (y, 3)], national_priority=1)
    second = world.approved([(x, 5)], national_priority=4)

    run = allocate()

    assert (outcome_of(run, first).rank, outcome_of(run, first).result) == (1, "short")
    assert (outcome_of(run, second).rank, outcome_of(run, second).result) == (2, "allocated")
    assert status_of(second) == OrderStatus.ALLOCATED
    assert available(world.a, x) == 0


def test_an_order_comes_from_the_first_warehouse_by_rank_that_has_every_line(world):
    x, y = world.items[:2]
    stock(world.a, x, 10)  # A, ranked first, lacks y
    stock(world.b, x, 10)
    stock(world.b, y, 10)
    order = world.approved([(x, 2), (y, 2)])

    run = allocate()

    assert outcome_of(run, order).warehouses == world.b.code
    assert set(Allocation.objects.values_list("stock_level__warehouse", flat=True).distinct()) == {
        world.b.pk
    }
    assert available(world.a, x) == 10


def test_without_split_lines_spread_over_warehouses_leave_the_order_short(world, settings):
    settings.OMS_ALLOCATION_SPLIT = False
    x, y = world.items[:2]
    stock(world.a, x, 10)
    stock(world.b, y, 10)
    order = world.approved([(x, 2), (y, 2)])

    run = allocate()

    outcome = outcome_of(run, order)
    assert outcome.result == Result.SHORT
    # every line is somewhere, no one warehouse has them all: each one's gap is shown
    assert outcome.explanation["lines"] == []
    assert outcome.explanation["warehouses"] == [
        {"warehouse": world.a.code, "missing": [{"item": y.code, "needed": 2, "available": 0}]},
        {"warehouse": world.b.code, "missing": [{"item": x.code, "needed": 2, "available": 0}]},
    ]
    assert Allocation.objects.count() == 0


def test_with_split_an_order_takes_from_the_serving_warehouses_in_rank_order(world, settings):
    settings.OMS_ALLOCATION_SPLIT = True
    x, y = world.items[:2]
    stock(world.a, x, 3)
    stock(world.b, x, 10)
    stock(world.b, y, 4)
    order = world.approved([(x, 5), (y, 4)])

    run = allocate()

    assert run.split
    assert status_of(order) == OrderStatus.ALLOCATED
    held = set(
        Allocation.objects.values_list("order_line__item", "stock_level__warehouse", "quantity")
    )
    assert held == {(x.pk, world.a.pk, 3), (x.pk, world.b.pk, 2), (y.pk, world.b.pk, 4)}
    assert outcome_of(run, order).warehouses == f"{world.a.code}, {world.b.code}"
    assert stock_is_consistent() == []


def test_with_split_an_order_is_short_when_its_warehouses_together_lack_a_line(world, settings):
    settings.OMS_ALLOCATION_SPLIT = True
    x = world.items[0]
    stock(world.a, x, 2)
    stock(world.b, x, 2)
    order = world.approved([(x, 5)])

    run = allocate()

    assert outcome_of(run, order).explanation["lines"] == [
        {
            "item": x.code,
            "needed": 5,
            "best_available": 4,
            "where": [
                {"warehouse": world.a.code, "available": 2},
                {"warehouse": world.b.code, "available": 2},
            ],
        }
    ]
    assert Allocation.objects.count() == 0


def test_an_inactive_warehouse_serves_no_one(world):
    x = world.items[0]
    stock(world.a, x, 10)
    stock(world.b, x, 10)
    with audit.acting(SETUP):
        world.a.active = False
        world.a.save()
    order = world.approved([(x, 2)])

    run = allocate()

    assert outcome_of(run, order).warehouses == world.b.code


def test_gated_orders_are_reported_and_keep_waiting(world):
    x = world.items[0]
    stock(world.a, x, 10)
    order = make_order(
        project=world.project(), lines=[(x, 2)], gated=True, gate_reason="Waiting for permits"
    )
    order = order_services.order_approve(order=order, actor=SETUP)

    run = allocate()

    assert (run.gated, run.eligible, run.allocated) == (1, 0, 0)
    outcome = outcome_of(run, order)
    assert (outcome.result, outcome.rank, outcome.explanation) == (
        "gated",
        None,
        {"gate": "Waiting for permits"},
    )
    assert status_of(order) == OrderStatus.APPROVED


def test_blocking_items_count_the_orders_each_keeps_short_and_the_units_to_unblock(world):
    x, y = world.items[:2]
    stock(world.a, x, 2)
    stock(world.a, y, 10)
    world.approved([(x, 5)], national_priority=1)
    world.approved([(x, 3), (y, 1)], national_priority=2)
    world.approved([(y, 2)], national_priority=3)

    run = allocate()

    assert (run.allocated, run.short) == (1, 2)
    assert run.blocking == [
        {
            "item": x.code,
            "description": x.description,
            "orders": 2,
            "needed": 8,
            "available": 2,
            "units_to_unblock": 6,
        }
    ]


# --- One order from a chosen warehouse --------------------------------------------------


def test_allocating_one_order_from_a_chosen_warehouse_writes_as_a_run_does(world):
    x = world.items[0]
    stock(world.b, x, 10)
    order = world.approved([(x, 4)])

    order = order_services.order_allocate(order=order, warehouse=world.b, actor=SETUP)

    assert order.status == OrderStatus.ALLOCATED
    assert available(world.b, x) == 6
    event = OutboxEvent.objects.filter(aggregate_id=str(order.pk)).latest("id")
    assert (event.event_type, event.payload["warehouses"]) == ("order.allocated", [world.b.code])
    assert order.history.latest().history_change_reason == f"allocate at {world.b.code}"
    assert stock_is_consistent() == []
    # then a run has nothing left to do for it
    assert allocate().eligible == 0
