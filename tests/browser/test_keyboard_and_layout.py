"""The back office with the keyboard alone, and on a laptop screen (1366x768)."""

import re

import pytest
from playwright.sync_api import expect

from oms.models import JobRun
from orders.choices import OrderStatus
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1366, "height": 768}
WIDE = {"width": 1920, "height": 1080}
MAX_TABS = 60


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="kim", role="coordinator")


def tab_to(page, target) -> None:
    """Press Tab until `target` has the focus; fails naming what was reached instead."""
    visited = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
        visited.append(page.evaluate("document.activeElement.outerHTML.slice(0, 80)"))
    raise AssertionError(f"{MAX_TABS} tabs did not reach {target}; reached: {visited}")


def has_focus_ring(locator) -> bool:
    style = locator.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }"
    )
    return style[0] != "none" and float(style[1].removesuffix("px")) >= 2


def test_a_coordinator_finds_opens_and_approves_an_order_with_the_keyboard_alone(
    sign_in, live_server, coordinator
):
    wanted = factories.make_order()
    others = [factories.make_order() for _ in range(3)]
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/")

    # The first Tab reaches the skip link; it leads past the navigation to the search.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    assert has_focus_ring(skip)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    search = page.get_by_label("Search")
    expect(search).to_be_focused()

    page.keyboard.type(wanted.number)
    page.keyboard.press("Enter")
    results = page.locator("#results")
    expect(page).to_have_url(re.compile(rf"q={wanted.number}"))
    expect(results.get_by_role("link", name=wanted.number)).to_have_count(1)
    for other in others:
        expect(results).not_to_contain_text(other.number)
    expect(page.locator("#queue-count")).to_have_text("1 order")

    link = results.get_by_role("link", name=wanted.number)
    tab_to(page, link)
    assert has_focus_ring(link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/orders/{wanted.number}/")

    approve = page.get_by_role("button", name="Approve", exact=True)
    tab_to(page, approve)
    assert has_focus_ring(approve)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Approve: done.")
    expect(page.locator("h1 .status")).to_have_text("Approved")
    assert Order.objects.get(pk=wanted.pk).status == OrderStatus.APPROVED


def test_a_reason_form_opens_and_submits_from_the_keyboard(sign_in, live_server, coordinator):
    order = factories.order_in(OrderStatus.APPROVED)
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    summary = page.locator("summary", has_text="Reject to draft")
    tab_to(page, summary)
    page.keyboard.press("Enter")
    reason = page.locator("#id_reject_reason_code")
    tab_to(page, reason)
    reason.select_option("data_mismatch")  # a select takes its value from the keyboard too
    page.keyboard.press("Tab")
    expect(page.locator("#id_reject_reason_text")).to_be_focused()
    page.keyboard.type("Mast height is wrong")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Reject to draft", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".banner.bad")).to_contain_text("Mast height is wrong")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_no_screen_scrolls_sideways_on_a_laptop_and_wide_tables_scroll_in_their_own_box(
    sign_in, live_server, coordinator
):
    # Given orders whose project ID and site code are as long as they may be
    long_project = factories.ProjectFactory(
        external_id="PRJ-" + "7" * 36, site_code="SITE-" + "W" * 35
    )
    orders = [factories.make_order(project=long_project) for _ in range(3)]
    factories.order_in(OrderStatus.CANCELLED)
    run = JobRun.objects.create(name="import_projects", status=JobRun.Status.FAILED, failed=3)
    page = sign_in(coordinator)
    page.set_viewport_size(LAPTOP)
    number = orders[0].number
    screens = [
        "/",
        "/orders/",
        "/orders/?status=draft&status=cancelled&sort=need_by",
        f"/orders/{number}/",
        f"/orders/{number}/lines/",
        "/orders/design-events/?status=all",
        "/jobs/",
        f"/jobs/{run.pk}/",
        "/orders/projects/import/",
    ]
    for path in screens:
        page.goto(live_server.url + path)
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"{path} scrolls sideways: {widths}"

    # The queue's table is wider than the screen: its own box scrolls, not the page
    page.goto(f"{live_server.url}/orders/")
    box = page.locator("#results .table-scroll")
    scroll_width, client_width = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert scroll_width > client_width
    # and the box takes the keyboard focus, so arrow keys can scroll it
    tab_to(page, box)
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    # (the browser scrolls smoothly: wait for it, polling from outside the page, since
    # the Content-Security-Policy refuses the string evaluation wait_for_function uses)
    scrolled = "document.querySelector('#results .table-scroll').scrollLeft > 0"
    for _ in range(50):
        if page.evaluate(scrolled):
            break
        page.wait_for_timeout(100)
    assert page.evaluate(scrolled)

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1]


def test_the_queue_and_the_order_page_use_the_width_of_a_wide_screen(
    sign_in, live_server, coordinator
):
    order = factories.make_order()
    page = sign_in(coordinator)
    page.set_viewport_size(WIDE)
    for path, table in (("orders/", "#results table"), (f"orders/{order.number}/", "table")):
        page.goto(f"{live_server.url}/{path}")
        width = page.locator(table).first.evaluate("e => e.getBoundingClientRect().width")
        assert width > 1700, f"{path}: the table is {width} px wide on a 1920 px screen"
