"""A manager answers the usual questions from the trends page in a real browser."""

import pytest
from playwright.sync_api import expect

from orders import services
from orders.choices import OrderStatus, ReasonCode
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_reads_the_weekly_trends_with_their_numbers(sign_in):
    factories.order_in(OrderStatus.CLOSED)
    rejected = factories.order_in(OrderStatus.APPROVED)
    services.order_reject(
        order=rejected,
        actor=factories.SETUP,
        reason_code=ReasonCode.DATA_MISMATCH,
        reason_text="Mast height",
    )
    manager = factories.UserFactory(username="mona", role="viewer")

    page = sign_in(manager)
    page.get_by_role("link", name="Trends").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Trends")
    orders = page.locator("section", has=page.get_by_role("heading", name="Orders per week"))
    expect(orders.get_by_role("row", name="created")).to_contain_text("2")
    expect(orders.locator("svg.spark")).to_have_count(3)
    lead = page.locator("section", has=page.get_by_role("heading", name="Lead time"))
    expect(lead.get_by_role("columnheader", name="Median (days)")).to_be_visible()
    rejections = page.locator("section", has=page.get_by_role("heading", name="Rejections"))
    expect(rejections).to_contain_text(ReasonCode.DATA_MISMATCH.label)
    shortfalls = page.locator("section", has=page.get_by_role("heading", name="shortfalls"))
    expect(shortfalls).to_contain_text("No allocation run was short")
