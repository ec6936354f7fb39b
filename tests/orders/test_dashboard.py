"""The dashboard's reads: orders in jeopardy and the flow between statuses."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import selectors, services
from orders.choices import OrderStatus
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db


def test_jeopardy_is_an_overdue_status_or_a_near_need_by_date(settings):
    settings.OMS_STATUS_LIMIT_DAYS = {"draft": 5}
    settings.OMS_NEED_BY_RISK_DAYS = 7
    today = timezone.localdate()
    soon = factories.make_order(need_by=today + datetime.timedelta(days=3))
    stale = factories.make_order(need_by=today + datetime.timedelta(days=60))
    Order.objects.filter(pk=stale.pk).update(
        status_changed_at=timezone.now() - datetime.timedelta(days=6)
    )
    fine = factories.make_order(need_by=today + datetime.timedelta(days=60))
    found = set(selectors.jeopardy(today).values_list("number", flat=True))
    assert found == {soon.number, stale.number}
    assert fine.number not in found


def test_the_queue_filters_orders_in_jeopardy(client, coordinator):
    client.force_login(coordinator)
    today = timezone.localdate()
    soon = factories.make_order(need_by=today + datetime.timedelta(days=1))
    later = factories.make_order(need_by=today + datetime.timedelta(days=90))
    page = client.get(reverse("orders:queue"), {"jeopardy": "true"}).content.decode()
    assert soon.number in page and later.number not in page


def test_flow_counts_orders_entering_and_leaving_each_status():
    first, second = factories.make_order(), factories.make_order()
    services.order_approve(order=first, actor=factories.SETUP)
    flow = {f.status: f for f in selectors.order_flow(days=30)}
    assert sum(flow[OrderStatus.DRAFT].entered) == 2
    assert sum(flow[OrderStatus.DRAFT].left) == 1
    assert sum(flow[OrderStatus.APPROVED].entered) == 1
    assert flow[OrderStatus.DRAFT].median_days is not None
    assert flow[OrderStatus.DRAFT].net == 1
    assert second.status == OrderStatus.DRAFT


def test_the_dashboard_shows_where_orders_pile_up(client, coordinator):
    client.force_login(coordinator)
    factories.make_order()
    page = client.get(reverse("home")).content.decode()
    assert "Orders pile up in <strong>Draft</strong>" in page
    assert '<svg class="spark"' in page


def test_the_dashboard_points_to_returns_low_stock_and_failed_webhooks(client, coordinator):
    from oms import audit, webhooks
    from oms.models import OutboxEvent, WebhookDelivery
    from warehouse.ledger.models import StockLevel
    from warehouse.ledger.services import stock_set_minimum

    factories.order_in(OrderStatus.PARTIALLY_RETURNED)
    level = StockLevel.objects.first()
    stock_set_minimum(
        level=level, minimum_level=level.available + 1, reason="x", actor=factories.SETUP
    )
    subscription, _ = webhooks.subscription_create(
        name="erp", url="http://127.0.0.1:9/", event_types=["*"], actor=factories.SETUP
    )
    with audit.acting(factories.SETUP):
        WebhookDelivery.objects.create(
            subscription=subscription,
            event=OutboxEvent.objects.first(),
            status=WebhookDelivery.Status.FAILED,
            retrying_since=timezone.now(),
        )
    client.force_login(coordinator)

    page = client.get(reverse("home")).content.decode()

    assert "1 return to resolve" in page
    assert "1 stock level below minimum" in page
    assert "1 failed webhook delivery" in page
