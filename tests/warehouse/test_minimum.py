"""Minimum stock levels: one stock.below_minimum event per crossing, written with the
movement that crosses."""

import pytest
from django.db import transaction
from django.urls import reverse

from oms.actors import Actor, ActorKind
from oms.errors import ActionForbidden, ValidationFailed
from oms.models import OutboxEvent
from orders import services
from orders.choices import ReasonCode
from tests.factories import (
    SETUP,
    ItemFactory,
    UserFactory,
    WarehouseFactory,
    make_order,
    stock,
)
from warehouse.ledger.choices import MovementKind
from warehouse.ledger.models import StockLevel
from warehouse.ledger.services import record_movement, stock_adjust, stock_set_minimum

pytestmark = pytest.mark.django_db


def below_minimum_events():
    return list(OutboxEvent.objects.filter(event_type="stock.below_minimum").order_by("id"))


@pytest.fixture
def level():
    """10 on hand, minimum 5."""
    warehouse, item = WarehouseFactory(), ItemFactory()
    stock(warehouse, item, 10)
    level = StockLevel.objects.get(warehouse=warehouse, item=item)
    return stock_set_minimum(level=level, minimum_level=5, reason="safety stock", actor=SETUP)


def allocate(level, quantity):
    order = make_order(lines=[(level.item, quantity)])
    order = services.order_approve(order=order, actor=SETUP)
    return services.order_allocate(order=order, warehouse=level.warehouse, actor=SETUP)


def test_a_reservation_that_takes_available_below_the_minimum_publishes_the_event(level):
    allocate(level, 6)  # available 4 < 5

    (event,) = below_minimum_events()
    assert event.aggregate_type == "stock_level" and event.aggregate_id == str(level.pk)
    assert event.payload["warehouse"] == level.warehouse.code
    assert event.payload["item"] == level.item.code
    assert (event.payload["available"], event.payload["minimum_level"]) == (4, 5)
    assert event.payload["cause"].startswith("reserve movement")
    level.refresh_from_db()
    assert level.below_minimum


def test_available_at_the_minimum_is_not_below_it(level):
    allocate(level, 5)  # available 5 == minimum

    assert below_minimum_events() == []
    level.refresh_from_db()
    assert not level.below_minimum


def test_staying_below_the_minimum_publishes_nothing_more(level):
    allocate(level, 6)
    allocate(level, 2)  # available 2, still below
    stock_adjust(
        warehouse=level.warehouse, item=level.item, quantity=-1, reason="count", actor=SETUP
    )

    assert len(below_minimum_events()) == 1


def test_each_new_crossing_after_recovery_publishes_again(level):
    order = allocate(level, 6)
    services.order_cancel(
        order=order, actor=SETUP, reason_code=ReasonCode.NO_LONGER_NEEDED, reason_text="x"
    )
    level.refresh_from_db()
    assert not level.below_minimum  # back at 10 available: the flag is cleared

    allocate(level, 7)  # below again

    assert len(below_minimum_events()) == 2


def test_the_event_is_part_of_the_movement_transaction(level):
    with pytest.raises(RuntimeError), transaction.atomic():
        locked = StockLevel.objects.select_for_update().get(pk=level.pk)
        record_movement(level=locked, kind=MovementKind.ADJUSTMENT, quantity=-8, actor=SETUP)
        raise RuntimeError("the caller fails after the movement")

    assert below_minimum_events() == []
    level.refresh_from_db()
    assert (level.on_hand, level.below_minimum) == (10, False)


def test_raising_the_minimum_above_available_is_a_crossing(level):
    stock_set_minimum(level=level, minimum_level=12, reason="new sites in the area", actor=SETUP)

    (event,) = below_minimum_events()
    assert event.payload["cause"] == "minimum level raised"
    level.refresh_from_db()
    assert level.below_minimum


def test_a_changed_minimum_is_in_the_history_with_its_actor_and_reason(level):
    admin = Actor.person(UserFactory(is_superuser=True))

    stock_set_minimum(level=level, minimum_level=8, reason="longer lead time", actor=admin)

    record = level.history.first()
    assert record.minimum_level == 8
    assert (record.actor_kind, record.actor_name) == (ActorKind.PERSON, admin.name)
    assert record.history_change_reason == "minimum 5 → 8: longer lead time"


def test_setting_the_minimum_needs_permission_a_reason_and_a_sane_number(level, coordinator):
    with pytest.raises(ActionForbidden):
        stock_set_minimum(level=level, minimum_level=3, reason="x", actor=Actor.person(coordinator))
    with pytest.raises(ValidationFailed):
        stock_set_minimum(level=level, minimum_level=3, reason="  ", actor=SETUP)
    with pytest.raises(ValidationFailed):
        stock_set_minimum(level=level, minimum_level=-1, reason="x", actor=SETUP)
    level.refresh_from_db()
    assert level.minimum_level == 5


def test_the_inventory_filter_and_the_flag_agree(level):
    from warehouse.ledger.filters import StockLevelFilter

    allocate(level, 6)
    other = StockLevel.objects.exclude(pk=level.pk)
    assert not other.filter(below_minimum=True).exists()

    below = StockLevelFilter({"below_minimum": "true"}, queryset=StockLevel.objects.all()).qs
    assert list(below) == list(StockLevel.objects.filter(below_minimum=True)) == [level]


def test_a_catalog_admin_sets_the_minimum_in_the_admin_and_is_its_actor(client, level):
    catalog_admin = UserFactory(role="catalog_admin")
    client.force_login(catalog_admin)
    url = reverse("admin:warehouse_stocklevel_minimum", args=[level.pk])

    response = client.post(url, {"minimum_level": 3, "reason": "slow mover"})

    assert response.status_code == 302
    level.refresh_from_db()
    assert level.minimum_level == 3
    record = level.history.first()
    assert (record.history_user, record.history_change_reason) == (
        catalog_admin,
        "minimum 5 → 3: slow mover",
    )
    history = client.get(reverse("admin:warehouse_stocklevel_history", args=[level.pk]))
    assert "slow mover" in history.content.decode()


def test_the_minimum_cannot_be_set_in_the_admin_without_the_permission(client, level):
    client.force_login(UserFactory(role="coordinator", is_staff=True))
    url = reverse("admin:warehouse_stocklevel_minimum", args=[level.pk])
    assert client.post(url, {"minimum_level": 0, "reason": "x"}).status_code == 403
    level.refresh_from_db()
    assert level.minimum_level == 5
