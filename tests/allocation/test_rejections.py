"""Configuration mismatches send an order back to draft through the reject path, with
the reason code."""

import pytest

from catalog.choices import ItemLifecycle
from oms import audit
from oms.models import OutboxEvent
from orders.choices import OrderStatus, ReasonCode
from tests.allocation.builders import (
    allocate,
    available,
    outcome_of,
)
from tests.factories import (
    SETUP,
    MarketFactory,
    ProjectFactory,
    WarehouseFactory,
    stock,
)

pytestmark = pytest.mark.django_db


def _assert_rejected(run, order, reason_code):
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    assert order.reason_code == reason_code
    assert order.reason_text.startswith(f"Allocation run #{run.pk}: ")
    record = order.history.latest()
    assert (record.actor_name, record.status) == (f"allocation run #{run.pk}", "draft")
    event = OutboxEvent.objects.filter(aggregate_id=str(order.pk)).latest("id")
    assert (event.event_type, event.payload["reason"]["code"]) == ("order.rejected", reason_code)
    outcome = outcome_of(run, order)
    assert (outcome.result, outcome.reason_code) == ("rejected", reason_code)
    assert run.rejected == 1
    return outcome


def test_an_order_whose_market_no_warehouse_serves_is_rejected(world):
    x = world.items[0]
    stock(world.a, x, 10)
    order = world.approved([(x, 1)], project=ProjectFactory(market=MarketFactory()))

    run = allocate()

    outcome = _assert_rejected(run, order, ReasonCode.NO_SERVING_WAREHOUSE)
    assert "No active warehouse serves market" in outcome.explanation["problems"][0]["message"]


@pytest.mark.parametrize("lifecycle", [ItemLifecycle.DISCONTINUED, ItemLifecycle.REPLACED])
def test_an_order_with_an_item_no_longer_active_is_rejected(world, lifecycle):
    x, successor = world.items[:2]
    stock(world.a, x, 10)
    order = world.approved([(x, 1)])
    with audit.acting(SETUP):  # the catalog changes after approval
        x.lifecycle = lifecycle
        x.replaced_by = successor if lifecycle == ItemLifecycle.REPLACED else None
        x.save()

    run = allocate()

    outcome = _assert_rejected(run, order, ReasonCode.DISCONTINUED_ITEM)
    if lifecycle == ItemLifecycle.REPLACED:
        assert f"use {successor.code} instead" in outcome.explanation["problems"][0]["message"]
    assert available(world.a, x) == 10


def test_an_order_with_an_item_no_warehouse_knows_is_rejected(world):
    x = world.items[0]  # no stock level anywhere
    order = world.approved([(x, 1)])

    run = allocate()

    _assert_rejected(run, order, ReasonCode.UNKNOWN_ITEM)


def test_an_order_with_an_item_no_serving_warehouse_stocks_is_rejected(world):
    x = world.items[0]
    stock(WarehouseFactory(), x, 10)  # stocked, but not where the market is served
    order = world.approved([(x, 1)])

    run = allocate()

    outcome = _assert_rejected(run, order, ReasonCode.ITEM_NOT_STOCKED)
    assert outcome.explanation["problems"][0]["item"] == x.code


def test_with_several_mismatches_the_reason_is_the_first_by_precedence_and_all_are_told(world):
    x, y = world.items[:2]
    stock(WarehouseFactory(), y, 5)  # y: stocked elsewhere only; x: unknown
    order = world.approved([(x, 1), (y, 1)])

    run = allocate()

    outcome = _assert_rejected(run, order, ReasonCode.UNKNOWN_ITEM)
    assert {p["code"] for p in outcome.explanation["problems"]} == {
        "unknown_item",
        "item_not_stocked",
    }
    order.refresh_from_db()
    assert x.code in order.reason_text and y.code in order.reason_text
