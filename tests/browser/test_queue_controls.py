"""The queue's controls in a real browser: status tabs with counts, chips that remove a
filter, the need-by range, search by site name, item description and part of a number,
the page size, and saved views (saved, opened by default, shared by link)."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from orders.choices import OrderStatus
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def open_queue(page, live_server, query=""):
    page.goto(f"{live_server.url}/orders/{query}")
    page.wait_for_load_state("load")  # htmx has wired the filters


def count(page):
    return page.locator("#queue-count")


def tab(page, name):
    return page.locator("#status-tabs").get_by_role("link", name=re.compile(rf"^{name} \d+$"))


def test_the_status_tabs_count_under_the_other_filters_and_set_the_status(
    sign_in, live_server, coordinator
):
    # Given two drafts and one approved order in NYC, and a draft elsewhere
    nyc = factories.ProjectFactory(market=factories.MarketFactory(code="NYC", name="New York"))
    drafts = [factories.make_order(project=nyc) for _ in range(2)]
    approved = factories.order_in(OrderStatus.APPROVED, project=nyc)
    factories.make_order()
    page = sign_in(coordinator)
    open_queue(page, live_server)
    expect(tab(page, "All")).to_have_text("All 4")
    expect(tab(page, "All")).to_have_attribute("aria-current", "page")
    # When the coordinator picks NYC, the tabs count NYC's orders
    page.get_by_label("Market", exact=True).select_option("NYC")
    expect(tab(page, "All")).to_have_text("All 3")
    expect(tab(page, "Draft")).to_have_text("Draft 2")
    expect(tab(page, "Approved")).to_have_text("Approved 1")
    # and the Draft tab shows the drafts, marked as the current tab, in the URL too
    tab(page, "Draft").click()
    expect(page).to_have_url(re.compile(r"status=draft"))
    expect(page).to_have_url(re.compile(r"market=NYC"))
    expect(tab(page, "Draft")).to_have_attribute("aria-current", "page")
    expect(count(page)).to_have_text("2 orders")
    expect(page.locator("#results")).not_to_contain_text(approved.number)
    for order in drafts:
        expect(page.locator("#results")).to_contain_text(order.number)
    # The status list of the filter form follows the tab
    expect(page.locator('#filters input[name="status"][value="draft"]')).to_be_checked()
    expect(page.locator("#filters summary", has_text="Status")).to_contain_text("Draft")


def test_a_chip_shows_each_active_filter_and_removes_it(sign_in, live_server, coordinator):
    urgent = factories.make_order(national_priority=1)
    factories.make_order(national_priority=3)
    page = sign_in(coordinator)
    open_queue(page, live_server, "?priority=1&gated=false")
    chips = page.locator("#queue-chips li.chip")
    expect(chips.locator("span")).to_have_text(["Priority: P1 critical", "Gated: No"])
    expect(count(page)).to_have_text("1 order")
    # When the coordinator removes the priority chip
    chips.filter(has_text="Priority").get_by_role("link", name="Remove").click()
    # Then the filter is gone from the list, the form and the URL
    expect(chips.locator("span")).to_have_text(["Gated: No"])
    expect(count(page)).to_have_text("2 orders")
    expect(page.locator('#filters input[name="priority"][value="1"]')).not_to_be_checked()
    expect(page).not_to_have_url(re.compile(r"priority=1"))
    assert urgent.number in page.locator("#results").inner_text()


def test_the_need_by_range_and_checkbox_lists_filter_the_queue(sign_in, live_server, coordinator):
    soon = factories.make_order(need_by=datetime.date(2026, 11, 10), national_priority=2)
    factories.make_order(need_by=datetime.date(2027, 3, 1), national_priority=2)
    factories.make_order(need_by=datetime.date(2026, 11, 12), national_priority=4)
    page = sign_in(coordinator)
    open_queue(page, live_server)
    page.get_by_label("Need by to").fill("2026-12-31")
    expect(count(page)).to_have_text("2 orders")
    expect(page).to_have_url(re.compile(r"need_by_to=2026-12-31"))
    page.locator("#filters summary", has_text="Priority").click()
    page.get_by_role("checkbox", name="P2 high").check()
    expect(count(page)).to_have_text("1 order")
    expect(page.locator("#results")).to_contain_text(soon.number)
    expect(page.locator("#filters summary", has_text="Priority")).to_contain_text("P2 high")
    page.keyboard.press("Escape")
    expect(page.get_by_role("checkbox", name="P2 high")).to_be_hidden()
    # An impossible date is refused with the field's name, not a crash
    open_queue(page, live_server, "?need_by_from=2026-02-30")
    expect(page.get_by_role("alert")).to_contain_text("Need by from (need_by_from)")


def test_the_search_finds_a_site_name_an_item_description_and_part_of_a_number(
    sign_in, live_server, coordinator
):
    tower = factories.make_order(project=factories.ProjectFactory(name="Harbor Tower"))
    cable = factories.ItemFactory(description="Fibre jumper cable 3 m")
    with_cable = factories.make_order(lines=[(cable, 4)])
    other = factories.make_order()
    page = sign_in(coordinator)
    open_queue(page, live_server)
    search = page.get_by_label("Search", exact=True)
    for text, found in [
        ("harbor tow", tower),
        ("JUMPER CAB", with_cable),
        (other.number[-4:], other),
    ]:
        search.fill(text)
        search.press("Enter")
        expect(count(page)).to_have_text("1 order")
        expect(page.locator("#results tbody")).to_contain_text(found.number)


def test_the_page_size_is_chosen_from_the_list(sign_in, live_server, coordinator):
    for _ in range(30):
        factories.make_order()
    page = sign_in(coordinator)
    open_queue(page, live_server)
    expect(page.locator("#results tbody tr")).to_have_count(30)
    page.get_by_label("Rows per page").select_option("25")
    expect(count(page)).to_have_text("30 orders, page 1 of 2")
    expect(page.locator("#results tbody tr")).to_have_count(25)
    expect(page).to_have_url(re.compile(r"per_page=25"))
    page.get_by_role("link", name="Next →").click()
    expect(page.locator("#results tbody tr")).to_have_count(5)
    expect(page).to_have_url(re.compile(r"per_page=25.*page=2"))


def test_a_saved_default_view_opens_the_queue_and_its_link_is_shared(
    sign_in, live_server, coordinator, viewer
):
    draft = factories.make_order(national_priority=1)
    approved = factories.order_in(OrderStatus.APPROVED, national_priority=1)
    factories.make_order(national_priority=3)
    page = sign_in(coordinator)
    open_queue(page, live_server, "?status=draft&priority=1&page=1")
    # When the coordinator saves the filters as their default view
    page.get_by_text("Save these filters as a view").click()
    page.get_by_label("Name", exact=True).fill("Urgent drafts")
    page.get_by_label("Open the queue with it").check()
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("status")).to_contain_text("Saved the view Urgent drafts.")
    # Then the queue opens with it, says so, and shows every order on request
    open_queue(page, live_server)
    expect(page.locator("#queue-chips")).to_contain_text("Default view: Urgent drafts")
    expect(count(page)).to_have_text("1 order")
    expect(page.locator("#results")).to_contain_text(draft.number)
    page.get_by_role("link", name="Show all orders").click()
    expect(count(page)).to_have_text("3 orders")
    expect(page.locator("#results")).to_contain_text(approved.number)
    # The saved view is a link in the queue, and its page offers the link to share
    expect(page.get_by_role("navigation", name="Saved views")).to_contain_text("Urgent drafts")
    page.get_by_role("link", name="Manage saved views").click()
    link = page.get_by_label("Link to Urgent drafts").input_value()
    assert link.endswith("/orders/?status=draft&priority=1")
    # Anyone with the link sees the same orders
    other = sign_in(viewer)
    other.goto(link)
    expect(other.locator("#queue-count")).to_have_text("1 order")
    expect(other.locator("#results")).to_contain_text(draft.number)
    # The owner renames it and deletes it
    page.get_by_label("New name for Urgent drafts").fill("P1 drafts")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_contain_text("Renamed the view Urgent drafts to P1")
    page.get_by_role("button", name="Delete P1 drafts").click()
    expect(page.get_by_text("You have no saved views yet.")).to_be_visible()
    open_queue(page, live_server)
    expect(count(page)).to_have_text("3 orders")


def test_my_orders_is_a_quick_link_to_the_orders_assigned_to_me(sign_in, live_server, coordinator):
    mine = factories.make_order()
    factories.make_order()
    from orders.models import Order

    Order.objects.filter(pk=mine.pk).update(assignee=coordinator)
    page = sign_in(coordinator)
    open_queue(page, live_server)
    page.get_by_role("link", name="My orders").click()
    expect(page).to_have_url(re.compile(r"assignee=me"))
    expect(count(page)).to_have_text("1 order")
    expect(page.locator("#queue-chips li.chip span")).to_have_text(["Assignee: Me"])
