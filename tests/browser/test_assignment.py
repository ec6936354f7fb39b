"""Ownership in a real browser: a coordinator takes an order from its page, finds it
first in the queue, filters the queue by assignee and hands the order on."""

import pytest
from playwright.sync_api import expect

from oms.actors import Actor
from orders import services
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="tess", role="coordinator")


@pytest.fixture
def colleague():
    return factories.UserFactory(username="bea", role="coordinator")


def test_coordinator_takes_an_order_finds_it_first_and_hands_it_on(sign_in, coordinator, colleague):
    # Given an order nobody has, and one a colleague looks after
    mine = factories.make_order()
    theirs = factories.make_order()
    services.order_assign(order=theirs, assignee=colleague, actor=Actor.person(colleague))

    # When the coordinator assigns the first one to themself from its page
    page = sign_in(coordinator)
    base = page.url
    page.goto(base + f"orders/{mine.number}/", wait_until="load")
    expect(page.locator("#assignee-name")).to_have_text("nobody")
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_role("status")).to_contain_text(f"{mine.number} is assigned to tess.")
    expect(page.locator("#assignee-name")).to_have_text("tess (you)")

    # and a newer order arrives afterwards
    newer = factories.make_order()

    # Then the queue shows theirs first: Mine first is the coordinator's default
    page.goto(base + "orders/", wait_until="load")
    expect(page.get_by_label("Sort by")).to_have_value("mine")
    rows = page.locator("table.queue tbody tr")
    expect(rows.first).to_contain_text(mine.number)
    expect(rows.first.locator(".assignee-cell")).to_contain_text("tess")
    page.get_by_label("Sort by").select_option("updated")
    expect(rows.first).to_contain_text(newer.number)

    # and filters by assignee, in place
    page.get_by_label("Assignee").select_option("me")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(mine.number)
    page.get_by_label("Assignee").select_option("bea")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(theirs.number)
    page.get_by_label("Assignee").select_option("none")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(newer.number)

    # When they hand their order on to a colleague
    page.goto(base + f"orders/{mine.number}/", wait_until="load")
    page.get_by_label("Assign to", exact=True).select_option("bea")
    page.get_by_role("button", name="Assign", exact=True).click()

    # Then the page and its timeline say who has it now, and who gave it
    expect(page.locator("#assignee-name")).to_have_text("bea")
    newest = page.locator("#timeline ol.timeline > li").first
    expect(newest).to_contain_text("tess")
    expect(newest).to_contain_text("assigned to bea")
    expect(newest).to_contain_text("assignee: tess → bea")
