"""Live updates in a real browser: a coordinator sees changes made elsewhere (another
coordinator, a warehouse's answer) on the order page and in the queue within seconds,
without a reload, and never loses what they were typing."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from oms.actors import Actor
from orders import services
from orders.choices import OrderStatus
from tests import factories
from warehouse.integration.callbacks.releases import release_accepted
from warehouse.integration.models import Release

pytestmark = pytest.mark.django_db(transaction=True)

SOON = 5_000  # ms: the pages ask every half second here


@pytest.fixture(autouse=True)
def _quick_polls(settings):
    settings.OMS_LIVE_POLL_SECONDS = 0.5
    settings.OMS_LIVE_POLL_MAX_SECONDS = 1


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="tess", role="coordinator")


@pytest.fixture
def colleague():
    return factories.UserFactory(username="bea", role="coordinator")


def _open(page, path):
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    page.goto(origin + path, wait_until="load")
    # A reload would lose this mark.
    page.evaluate("window.__notReloaded = true")


def _not_reloaded(page):
    assert page.evaluate("window.__notReloaded === true")


def test_the_order_page_shows_another_coordinators_approval_without_a_reload(
    sign_in, coordinator, colleague
):
    order = factories.make_order()
    page = sign_in(coordinator)
    _open(page, f"/orders/{order.number}/")
    expect(page.locator("h1 .status")).to_have_text("Draft")

    services.order_approve(order=order, actor=Actor.person(colleague))

    expect(page.locator("h1 .status")).to_have_text("Approved", timeout=SOON)
    banner = page.locator("#live-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Updated with a change made elsewhere")
    expect(banner).to_contain_text("bea — order changed: Draft → Approved")
    expect(page.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    # the forms drawn again carry the new version
    order.refresh_from_db()
    versions = page.locator('#order-live input[name="version"]')
    for value in versions.evaluate_all("(inputs) => inputs.map((i) => i.value)"):
        assert value == str(order.version)
    _not_reloaded(page)


def test_the_order_page_shows_the_warehouse_accepting_the_release(sign_in, coordinator):
    order = factories.order_in(OrderStatus.RELEASED)
    page = sign_in(coordinator)
    _open(page, f"/orders/{order.number}/")
    release = Release.objects.get(order=order)
    expect(page.locator(f"#release-{release.release_id} h3 .status")).not_to_have_text(
        "Accepted by warehouse"
    )

    release_accepted(release=release, event_id="wh-evt-1", actor=Actor.system("warehouse-sim"))

    expect(page.locator(f"#release-{release.release_id} h3 .status")).to_have_text(
        "Accepted by warehouse", timeout=SOON
    )
    expect(page.locator("#timeline")).to_contain_text("accepted by the warehouse")
    _not_reloaded(page)


def test_an_open_reason_form_is_kept_and_a_banner_says_who_changed_what(
    sign_in, coordinator, colleague
):
    order = factories.make_order()
    page = sign_in(coordinator)
    _open(page, f"/orders/{order.number}/")
    # The coordinator starts cancelling, with a reason half typed
    page.locator("summary", has_text="Cancel…").click()
    page.locator("#id_cancel_reason_text").fill("Site dropped by the customer")

    services.order_approve(order=order, actor=Actor.person(colleague))

    banner = page.locator("#live-banner")
    expect(banner).to_be_visible(timeout=SOON)
    expect(banner).to_contain_text("This order changed")
    expect(banner).to_contain_text("bea — order changed: Draft → Approved")
    # nothing was drawn over the form
    expect(page.locator("h1 .status")).to_have_text("Draft")
    expect(page.locator("#id_cancel_reason_text")).to_have_value("Site dropped by the customer")
    page.wait_for_timeout(1500)  # several more polls: still not drawn over
    expect(page.locator("#id_cancel_reason_text")).to_have_value("Site dropped by the customer")

    # When the coordinator asks for the changes
    banner.get_by_role("button", name="Show the changes").click()
    expect(page.locator("h1 .status")).to_have_text("Approved")
    expect(banner).to_contain_text("Updated with a change made elsewhere")
    _not_reloaded(page)


def test_a_note_being_typed_is_kept(sign_in, coordinator, colleague):
    order = factories.make_order()
    page = sign_in(coordinator)
    _open(page, f"/orders/{order.number}/")
    note = page.locator("#notes textarea")
    note.fill("Waiting for the crane")
    page.locator("h1").click()  # the focus leaves the box; the text stays unsaved

    services.order_add_note(order=order, actor=Actor.person(colleague), text="Called the site")

    expect(page.locator("#live-banner")).to_contain_text("bea — note added", timeout=SOON)
    expect(note).to_have_value("Waiting for the crane")
    expect(page.locator("#notes")).not_to_contain_text("Called the site")


def test_the_queue_row_shows_the_new_status_and_keeps_the_marked_row(
    sign_in, coordinator, colleague
):
    first = factories.make_order()
    second = factories.make_order()
    page = sign_in(coordinator)
    _open(page, "/orders/?sort=updated")
    row = page.locator(f"#order-row-{first.pk}")
    expect(row).to_contain_text("Draft")
    # The coordinator marks the older order's row with j/k
    page.locator("h1").click()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(row).to_have_class("kbd-current")

    services.order_approve(order=second, actor=Actor.person(colleague))

    expect(page.locator(f"#order-row-{second.pk}")).to_contain_text("Approved", timeout=SOON)
    expect(page.locator("#queue-live-note")).to_contain_text("Updated at")
    # the row that moved to the top is the changed one; the marked row stays marked
    expect(page.locator("table.queue tbody tr").first).to_contain_text(second.number)
    expect(page.locator(f"#order-row-{first.pk}")).to_have_class("kbd-current")
    _not_reloaded(page)


def test_the_queue_waits_while_rows_are_checked_for_a_bulk_action(sign_in, coordinator, colleague):
    order = factories.make_order()
    other = factories.make_order()
    page = sign_in(coordinator)
    _open(page, "/orders/")
    page.get_by_label(f"Select {other.number}").check()

    services.order_approve(order=order, actor=Actor.person(colleague))

    page.wait_for_timeout(2000)  # several poll intervals
    expect(page.locator(f"#order-row-{order.pk}")).to_contain_text("Draft")
    expect(page.get_by_label(f"Select {other.number}")).to_be_checked()

    # Once nothing is checked, the queue catches up
    page.get_by_label(f"Select {other.number}").uncheck()
    expect(page.locator(f"#order-row-{order.pk}")).to_contain_text("Approved", timeout=SOON)
    _not_reloaded(page)
