"""The inventory page and the ledger behind each of its numbers."""

import pytest
from django.test import Client
from django.urls import reverse

from orders import services
from orders.choices import OrderStatus
from tests import factories
from tests.factories import SETUP, ItemFactory, WarehouseFactory, order_in, stock
from warehouse.ledger.models import StockLevel
from warehouse.ledger.services import stock_adjust, stock_set_minimum

pytestmark = pytest.mark.django_db


def ledger_url(level, field):
    return reverse("warehouse:ledger", args=[level.pk]) + f"?field={field}"


def test_the_inventory_needs_a_login_and_the_permission(client):
    assert client.get(reverse("warehouse:inventory")).status_code == 302
    nobody = factories.UserFactory()
    client.force_login(nobody)
    assert client.get(reverse("warehouse:inventory")).status_code == 403


def test_the_inventory_shows_every_number_linked_to_its_ledger(coordinator_client):
    warehouse = WarehouseFactory()
    order = order_in(OrderStatus.ALLOCATED, warehouse=warehouse)  # 5 on hand, 5 reserved
    level = StockLevel.objects.get(warehouse=warehouse, item=order.lines.get().item)

    page = coordinator_client.get(reverse("warehouse:inventory")).content.decode()

    for field in ("on_hand", "reserved", "available", "damaged"):
        assert f'href="{ledger_url(level, field)}"' in page
    assert level.item.code in page and warehouse.code in page


def test_the_inventory_filters_by_warehouse_item_and_below_minimum(coordinator_client):
    north, south = WarehouseFactory(code="NORTH"), WarehouseFactory(code="SOUTH")
    radio, cable = ItemFactory(code="RRU-7"), ItemFactory(code="CBL-1")
    for warehouse in (north, south):
        for item in (radio, cable):
            stock(warehouse, item, 10)
    short = StockLevel.objects.get(warehouse=south, item=cable)
    stock_set_minimum(level=short, minimum_level=20, reason="busy area", actor=SETUP)
    url = reverse("warehouse:inventory")

    def rows(**query):
        page = coordinator_client.get(url, query, headers={"HX-Request": "true"})
        assert b"<html" not in page.content
        return page.content.decode().count("<tr") - 1  # minus the header row

    assert rows() == 4
    assert rows(warehouse="NORTH") == 2
    assert rows(q="rru") == 2
    assert rows(below_minimum="true") == 1
    assert rows(warehouse="SOUTH", below_minimum="false") == 1


def test_the_inventory_runs_a_fixed_number_of_queries(
    coordinator_client, django_assert_max_num_queries
):
    warehouse = WarehouseFactory()
    for _ in range(3):
        stock(warehouse, ItemFactory(), 5)
    with django_assert_max_num_queries(12) as few:
        coordinator_client.get(reverse("warehouse:inventory"))
    for _ in range(15):
        stock(WarehouseFactory(), ItemFactory(), 5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        coordinator_client.get(reverse("warehouse:inventory"))


def test_the_ledger_lists_the_movements_with_a_running_total(coordinator_client, coordinator):
    warehouse, item = WarehouseFactory(), ItemFactory()
    stock(warehouse, item, 10)
    stock_adjust(warehouse=warehouse, item=item, quantity=-3, reason="cycle count", actor=SETUP)
    order = factories.make_order(lines=[(item, 4)])
    order = services.order_approve(order=order, actor=SETUP)
    services.order_allocate(order=order, warehouse=warehouse, actor=SETUP)
    level = StockLevel.objects.get(warehouse=warehouse, item=item)

    on_hand = coordinator_client.get(ledger_url(level, "on_hand"))
    available = coordinator_client.get(ledger_url(level, "available"))

    rows = [(r.movement.kind, r.change, r.balance) for r in on_hand.context["rows"]]
    assert rows == [("adjustment", -3, 7), ("receipt", 10, 10)]
    assert (on_hand.context["total"], on_hand.context["shown"]) == (7, 7)
    rows = [(r.movement.kind, r.change, r.balance) for r in available.context["rows"]]
    assert rows == [("reserve", -4, 3), ("adjustment", -3, 7), ("receipt", 10, 10)]
    text = available.content.decode()
    assert "cycle count" in text and order.number in text and "test-setup" in text


def test_the_ledger_of_reserved_shows_what_it_is_held_for(coordinator_client):
    warehouse = WarehouseFactory()
    order = order_in(OrderStatus.ALLOCATED, warehouse=warehouse)
    level = StockLevel.objects.get(warehouse=warehouse, item=order.lines.get().item)

    response = coordinator_client.get(ledger_url(level, "reserved"))

    (allocation,) = response.context["allocations"]
    assert allocation.order_line.order == order
    assert f'href="{reverse("orders:detail", args=[order.number])}"' in response.content.decode()


def test_the_running_total_continues_across_pages(coordinator_client):
    from warehouse.ledger import views

    warehouse, item = WarehouseFactory(), ItemFactory()
    for quantity in range(1, 8):  # 1 + 2 + ... + 7 = 28
        stock(warehouse, item, quantity)
    level = StockLevel.objects.get(warehouse=warehouse, item=item)
    size, views.LEDGER_PAGE_SIZE = views.LEDGER_PAGE_SIZE, 3
    try:
        second = coordinator_client.get(ledger_url(level, "on_hand") + "&page=2")
    finally:
        views.LEDGER_PAGE_SIZE = size

    assert [(r.change, r.balance) for r in second.context["rows"]] == [(4, 10), (3, 6), (2, 3)]


def test_the_ledger_shows_the_history_of_the_minimum(coordinator_client):
    warehouse, item = WarehouseFactory(), ItemFactory()
    stock(warehouse, item, 10)
    level = StockLevel.objects.get(warehouse=warehouse, item=item)
    stock_set_minimum(level=level, minimum_level=4, reason="lead time doubled", actor=SETUP)

    page = coordinator_client.get(ledger_url(level, "available")).content.decode()

    assert "minimum 0 → 4: lead time doubled" in page


def test_the_ledger_runs_a_fixed_number_of_queries(
    coordinator_client, django_assert_max_num_queries
):
    warehouse, item = WarehouseFactory(), ItemFactory()

    def reserve_one():
        order = factories.make_order(lines=[(item, 1)])
        stock(warehouse, item, 1)
        order = services.order_approve(order=order, actor=SETUP)
        services.order_allocate(order=order, warehouse=warehouse, actor=SETUP)

    reserve_one()
    level = StockLevel.objects.get(warehouse=warehouse, item=item)
    with django_assert_max_num_queries(14) as few:
        coordinator_client.get(ledger_url(level, "reserved"))
    for _ in range(4):
        reserve_one()
    with django_assert_max_num_queries(len(few.captured_queries)):
        coordinator_client.get(ledger_url(level, "reserved"))


def test_an_unknown_ledger_field_is_not_found(coordinator_client):
    warehouse, item = WarehouseFactory(), ItemFactory()
    stock(warehouse, item, 1)
    level = StockLevel.objects.get()
    assert coordinator_client.get(ledger_url(level, "price")).status_code == 404


def test_the_ledger_needs_the_permission():
    warehouse, item = WarehouseFactory(), ItemFactory()
    stock(warehouse, item, 1)
    http = Client()
    http.force_login(factories.UserFactory())
    level = StockLevel.objects.get()
    assert http.get(ledger_url(level, "on_hand")).status_code == 403
