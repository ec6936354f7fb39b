"""The order page says where an order is: its lifecycle with the current step, the
time in its status against the limit, what this person may do, and why it is in
jeopardy."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders.choices import OrderStatus
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_coordinator_sees_where_an_order_is_and_why_it_is_in_jeopardy(
    sign_in, live_server, settings
):
    settings.OMS_STATUS_LIMIT_DAYS = {"approved": 3}
    settings.OMS_NEED_BY_RISK_DAYS = 7
    today = timezone.localdate()
    order = factories.order_in(OrderStatus.APPROVED, need_by=today - datetime.timedelta(days=2))
    Order.objects.filter(pk=order.pk).update(
        status_changed_at=timezone.now() - datetime.timedelta(days=5, hours=2)
    )
    coordinator = factories.UserFactory(username="trix", role="coordinator")
    viewer = factories.UserFactory(username="vic", role="viewer")

    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/{order.number}/")

    tracking = page.locator(".tracking")
    expect(tracking.locator("[aria-current=step]")).to_have_text("Approved")
    expect(tracking.locator(".lifecycle li")).to_have_count(5)
    expect(tracking).to_contain_text("In Approved for 5\xa0days, 2\xa0hours")
    expect(tracking).to_contain_text("(limit: 3 days)")
    expect(tracking).to_contain_text("You can: Reject to draft")
    banner = tracking.get_by_role("alert")
    expect(banner).to_contain_text("In Approved for 5 days, over its 3-day limit by 2 days.")
    expect(banner).to_contain_text("passed 2 days ago, and not released yet.")

    page = sign_in(viewer)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    expect(page.locator(".tracking")).to_contain_text("Nothing for you to do on it from here.")
