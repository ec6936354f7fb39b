"""The admin: catalog admins keep reference data; operational records are read-only;
stock changes go through the ledger; every change has a person as its actor."""

import datetime

import pytest
from django.contrib import admin
from django.urls import reverse

from catalog import services as catalog_services
from catalog.models import Item, Kit, KitVersion
from oms import audit
from oms.actors import ActorKind
from orders.choices import OrderStatus
from tests import factories
from warehouse.ledger.choices import MovementKind
from warehouse.ledger.models import StockLevel, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog_admin(client):
    user = factories.UserFactory(role="catalog_admin")
    client.force_login(user)
    return user


@pytest.fixture
def superuser(client):
    user = factories.UserFactory(is_superuser=True)
    client.force_login(user)
    return user


def test_every_registered_model_lists_and_opens(client, superuser):
    order = factories.order_in(OrderStatus.CLOSED)
    assert order.pk
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        obj = model._default_manager.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200, change


def test_catalog_admin_adds_an_item_and_is_its_actor(client, catalog_admin):
    response = client.post(
        reverse("admin:catalog_item_add"),
        {
            "code": "RRU-1",
            "description": "Radio",
            "unit": "EA",
            "category": "radio",
            "lifecycle": "active",
        },
    )
    assert response.status_code == 302, response.content
    record = Item.objects.get(code="RRU-1").history.get()
    assert (record.actor_kind, record.actor_name) == (ActorKind.PERSON, catalog_admin.username)
    assert record.history_user == catalog_admin


def test_replaced_item_without_successor_is_refused_by_the_form(client, catalog_admin):
    response = client.post(
        reverse("admin:catalog_item_add"),
        {
            "code": "OLD-1",
            "description": "Old",
            "unit": "EA",
            "category": "radio",
            "lifecycle": "replaced",
        },
    )
    assert response.status_code == 200
    assert "names its successor" in response.content.decode()
    assert not Item.objects.filter(code="OLD-1").exists()


def _kit_with_live_version():
    with audit.acting(factories.SETUP):
        kit = Kit.objects.create(code="KIT-A", name="Kit A")
    version = catalog_services.kit_version_draft(
        kit=kit, effective_from=datetime.date(2026, 1, 1), actor=factories.SETUP
    )
    catalog_services.kit_version_set_components(
        version=version, components=[(factories.ItemFactory(), 2)], actor=factories.SETUP
    )
    return catalog_services.kit_version_publish(version=version, actor=factories.SETUP)


def test_live_kit_version_cannot_be_changed_in_admin(client, catalog_admin):
    live = _kit_with_live_version()
    url = reverse("admin:catalog_kitversion_change", args=[live.pk])
    page = client.get(url)
    assert page.status_code == 200 and b'name="effective_from"' not in page.content
    response = client.post(url, {"effective_from": "2025-01-01", "notes": "changed"})
    assert response.status_code == 403
    live.refresh_from_db()
    assert live.effective_from == datetime.date(2026, 1, 1)


def test_new_version_is_drafted_with_the_next_number_and_published(client, catalog_admin):
    live = _kit_with_live_version()
    changelist = reverse("admin:catalog_kitversion_changelist")
    client.post(changelist, {"action": "draft_new_version", "_selected_action": [live.pk]})
    draft = KitVersion.objects.get(kit=live.kit, number=2)
    assert not draft.is_live
    assert draft.components.count() == 1  # copied from the live version
    client.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    live.refresh_from_db()
    assert draft.is_live and live.effective_to == draft.effective_from


def test_publishing_an_invalid_draft_shows_why(client, catalog_admin):
    with audit.acting(factories.SETUP):
        kit = Kit.objects.create(code="KIT-E", name="Empty")
    draft = catalog_services.kit_version_draft(
        kit=kit, effective_from=datetime.date(2026, 1, 1), actor=factories.SETUP
    )
    response = client.post(
        reverse("admin:catalog_kitversion_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert "A kit has components." in response.content.decode()
    draft.refresh_from_db()
    assert not draft.is_live


def test_orders_are_read_only_in_admin(client, superuser):
    order = factories.make_order()
    url = reverse("admin:orders_order_change", args=[order.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"national_priority": 1}).status_code == 403
    assert client.get(reverse("admin:orders_order_add")).status_code == 403


def test_stock_is_received_through_the_ledger(client, catalog_admin):
    warehouse, item = factories.WarehouseFactory(), factories.ItemFactory()
    factories.stock(warehouse, item, 5)
    level = StockLevel.objects.get(warehouse=warehouse, item=item)
    url = reverse("admin:warehouse_stocklevel_move", args=[level.pk])
    response = client.post(url, {"kind": "receipt", "quantity": 7, "reason": "ASN 1234"})
    assert response.status_code == 302
    level.refresh_from_db()
    assert level.on_hand == 12
    movement = StockMovement.objects.filter(kind=MovementKind.RECEIPT).latest("id")
    assert (movement.quantity, movement.actor_name, movement.reason) == (
        7,
        catalog_admin.username,
        "ASN 1234",
    )


def test_stock_adjustment_below_reserved_is_refused_with_a_message(client, catalog_admin):
    warehouse = factories.WarehouseFactory()
    order = factories.order_in(OrderStatus.ALLOCATED, warehouse=warehouse)
    level = StockLevel.objects.get(warehouse=warehouse, item=order.lines.get().item)
    url = reverse("admin:warehouse_stocklevel_move", args=[level.pk])
    response = client.post(
        url, {"kind": "adjustment", "quantity": -level.on_hand, "reason": "count"}, follow=True
    )
    assert response.status_code == 200
    level.refresh_from_db()
    assert level.on_hand == level.reserved == 5
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_viewer_cannot_move_stock(client):
    viewer = factories.UserFactory(role="viewer", is_staff=True)
    client.force_login(viewer)
    warehouse, item = factories.WarehouseFactory(), factories.ItemFactory()
    factories.stock(warehouse, item, 5)
    level = StockLevel.objects.get(warehouse=warehouse, item=item)
    url = reverse("admin:warehouse_stocklevel_move", args=[level.pk])
    assert client.post(url, {"kind": "receipt", "quantity": 1, "reason": "x"}).status_code == 403
    level.refresh_from_db()
    assert level.on_hand == 5


def test_coordinator_approves_orders_through_the_admin_action(client):
    coordinator = factories.UserFactory(role="coordinator", is_staff=True)
    client.force_login(coordinator)
    good = factories.make_order()
    held_project = factories.ProjectFactory(status="on_hold")
    blocked = factories.make_order(project=held_project)
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "approve", "_selected_action": [good.pk, blocked.pk]},
        follow=True,
    )
    good.refresh_from_db()
    blocked.refresh_from_db()
    assert good.status == OrderStatus.APPROVED
    assert blocked.status == OrderStatus.DRAFT
    text = [str(m) for m in response.context["messages"]]
    assert any(good.number in m for m in text)
    assert any(blocked.number in m and "on hold" in m for m in text), text
    record = good.history.first()
    assert (record.actor_name, record.actor_kind) == (coordinator.username, ActorKind.PERSON)


def test_reject_action_asks_for_a_reason_then_rejects(client):
    client.force_login(factories.UserFactory(role="coordinator", is_staff=True))
    order = factories.order_in(OrderStatus.APPROVED)
    changelist = reverse("admin:orders_order_changelist")
    ask = client.post(changelist, {"action": "reject", "_selected_action": [order.pk]})
    assert ask.status_code == 200 and b'name="reason_code"' in ask.content
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED
    client.post(
        changelist,
        {
            "action": "reject",
            "_selected_action": [order.pk],
            "reason_code": "data_mismatch",
            "reason_text": "Wrong antenna count",
        },
    )
    order.refresh_from_db()
    assert (order.status, order.reason_code, order.reason_text) == (
        OrderStatus.DRAFT,
        "data_mismatch",
        "Wrong antenna count",
    )


def test_viewer_has_no_transition_actions(client):
    client.force_login(factories.UserFactory(role="viewer", is_staff=True))
    order = factories.make_order()
    page = client.get(reverse("admin:orders_order_changelist"))
    assert page.status_code == 200
    assert b'value="approve"' not in page.content
    client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "approve", "_selected_action": [order.pk]},
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_api_clients_are_made_rotated_and_revoked_in_admin(client, superuser):
    from oms.models import ApiClient

    response = client.post(
        reverse("admin:oms_apiclient_add"),
        {"name": "wms", "description": "", "scopes": ["warehouse:write"], "throttle_rate": ""},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    token = next(m for m in shown if m.startswith("Token for wms")).split(": ", 1)[1]
    api_client = ApiClient.objects.get(name="wms")
    assert api_client.scopes == ["warehouse:write"] and token.startswith(api_client.token_prefix)
    changelist = reverse("admin:oms_apiclient_changelist")
    response = client.post(
        changelist, {"action": "rotate", "_selected_action": [api_client.pk]}, follow=True
    )
    new_token = next(
        str(m) for m in response.context["messages"] if str(m).startswith("Token for wms")
    ).split(": ", 1)[1]
    assert new_token != token
    client.post(changelist, {"action": "revoke", "_selected_action": [api_client.pk]})
    api_client.refresh_from_db()
    assert not api_client.is_active and api_client.revoked_at is not None
    assert api_client.history.first().actor_name == superuser.username
