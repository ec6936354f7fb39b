"""A coordinator's day in a real browser: filter, open, edit, note, approve, reject, bulk
approve; what a viewer sees; two people editing the same order."""

import re

import pytest
from playwright.sync_api import expect

from orders.choices import OrderStatus
from orders.models import Order
from tests import factories

# The live server runs in another thread: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="cora", role="coordinator")


def test_coordinator_filters_edits_and_approves(sign_in, live_server, coordinator):
    order = factories.make_order(national_priority=1)
    approved = factories.order_in(OrderStatus.APPROVED)
    page = sign_in(coordinator)
    page.get_by_role("link", name="Orders", exact=True).click()
    # Loaded, so htmx has wired the filters before the first change.
    page.wait_for_url(re.compile(r"/orders/$"), wait_until="load")
    page.locator("#status-tabs").get_by_role("link", name="Draft").click()
    expect(page.locator("#results")).not_to_contain_text(approved.number)
    expect(page.locator("#results")).to_contain_text(order.number)
    expect(page).to_have_url(re.compile(r"status=draft"))
    page.get_by_role("link", name=order.number).click()

    page.get_by_role("link", name="Edit lines").click()
    line = order.lines.get()
    page.get_by_label(f"Quantity of {line.item.code}").fill("8")
    page.get_by_role("button", name="Save lines").click()
    expect(page.get_by_role("status")).to_contain_text("Lines saved.")
    expect(page.locator(".timeline")).to_contain_text("quantity: 5 → 8")

    page.get_by_label("Note", exact=True).fill("Raised to 8: the new mast needs two more.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes")).to_contain_text("Note added.")
    expect(page.locator("#notes .notes")).to_contain_text("the new mast needs two more")
    expect(page.locator(".timeline")).to_contain_text("note added")
    expect(page.get_by_label("Note", exact=True)).to_have_value("")

    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Approve: done.")
    expect(page.locator("h1 .status")).to_have_text("Approved")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.APPROVED


def test_coordinator_rejects_with_a_reason_and_sees_the_banner(sign_in, coordinator):
    order = factories.order_in(OrderStatus.APPROVED)
    page = sign_in(coordinator)
    page.goto(page.url + f"orders/{order.number}/")
    page.get_by_text("Reject to draft…").click()
    page.get_by_label("Reason").first.select_option("data_mismatch")
    page.get_by_label("Why").first.fill("Antenna count is wrong")
    page.get_by_role("button", name="Reject to draft", exact=True).click()
    banner = page.locator(".banner.bad")
    expect(banner).to_contain_text("Upstream data does not match the site")
    expect(banner).to_contain_text("Antenna count is wrong")


def test_coordinator_bulk_approves_and_reads_each_result(sign_in, coordinator):
    orders = [factories.make_order() for _ in range(3)]
    page = sign_in(coordinator)
    page.goto(page.url + "orders/?status=draft")
    for order in orders:
        page.get_by_label(f"Select {order.number}").check()
    page.get_by_label("Action").select_option("approve")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#bulk-results .bulk-summary")).to_have_text("3 of 3 approved")
    for order in orders:
        expect(page.locator("#bulk-results .bulk-done")).to_contain_text(order.number)
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.APPROVED}


def test_a_viewer_sees_no_action_buttons(sign_in):
    viewer = factories.UserFactory(username="vic", role="viewer")
    order = factories.make_order()
    page = sign_in(viewer)
    page.goto(page.url + f"orders/{order.number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(order.number)
    expect(page.locator("section.actions button")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit lines")).to_have_count(0)


def test_the_second_of_two_editors_gets_the_conflict(sign_in, coordinator):
    other = factories.UserFactory(username="otto", role="coordinator")
    order = factories.make_order()
    line = order.lines.get()
    first, second = sign_in(coordinator), sign_in(other)
    for page in (first, second):
        page.goto(page.url + f"orders/{order.number}/lines/")
    first.get_by_label(f"Quantity of {line.item.code}").fill("6")
    first.get_by_role("button", name="Save lines").click()
    expect(first.get_by_role("status")).to_contain_text("Lines saved.")
    second.get_by_label(f"Quantity of {line.item.code}").fill("9")
    second.get_by_role("button", name="Save lines").click()
    expect(second.get_by_role("alert")).to_contain_text("changed since you loaded it")
    expect(second.get_by_label(f"Quantity of {line.item.code}")).to_have_value("6")
    line.refresh_from_db()
    assert line.quantity == 6
