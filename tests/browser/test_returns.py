"""A coordinator resolves returns in a real browser: a replacement order for one, the
order reopened for another; and releases allocated orders in bulk."""

import pytest
from playwright.sync_api import expect

from orders import services
from orders.choices import OrderKind, OrderStatus
from orders.models import Order
from tests import factories
from warehouse.integration.models import Release
from warehouse.ledger.choices import ReturnResolution

# The live server runs in another thread: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="rita", role="coordinator")


def test_coordinator_replaces_what_came_back(sign_in, coordinator):
    returned = factories.order_in(OrderStatus.PARTIALLY_RETURNED)
    record = returned.returns.get()
    page = sign_in(coordinator)

    page.get_by_role("link", name="Returns", exact=True).click()
    page.wait_for_url("**/orders/returns/", wait_until="load")  # htmx is wired
    card = page.locator(f"#returned-{returned.pk}")
    expect(card).to_contain_text("Partially returned")
    card.get_by_label(f"Resolve return #{record.pk}").select_option("replace")
    line = record.lines.select_related("order_line__item").get()
    # It came back in good condition: not chosen for replacement until the coordinator says
    quantity = card.get_by_label(f"How many {line.order_line.item.code} to replace")
    expect(quantity).to_have_value("0")
    quantity.fill(str(line.quantity))
    card.get_by_label("Why").fill("The unit was faulty; the site still needs it")
    card.get_by_role("button", name="Resolve").click()

    expect(card.get_by_role("status")).to_contain_text("replacement order")
    replacement = Order.objects.get(kind=OrderKind.REPLACEMENT)
    expect(card).to_contain_text("Replacement order created")
    card.get_by_role("link", name=replacement.number).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(replacement.number)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Replacement")
    record.refresh_from_db()
    assert (record.resolution, record.resolved_by) == (ReturnResolution.REPLACED, coordinator)
    assert Order.objects.get(pk=returned.pk).status == OrderStatus.CLOSED


def test_coordinator_chooses_what_a_replacement_carries_damaged_lines_first(sign_in, coordinator):
    # Given a closed order of which one item came back damaged and another in good order
    closed = factories.order_in(
        OrderStatus.CLOSED,
        lines=[
            (factories.ItemFactory(code="RRU-D1"), 3),
            (factories.ItemFactory(code="ANT-G2"), 2),
        ],
    )
    lines = {line.item.code: line for line in closed.lines.select_related("item")}
    services.order_record_return(
        order=closed,
        warehouse=Release.objects.get(order=closed).warehouse,
        actor=factories.SETUP,
        lines=[
            services.ReturnSpec(
                line=lines["RRU-D1"], quantity=3, condition="damaged", reason="dented"
            ),
            services.ReturnSpec(line=lines["ANT-G2"], quantity=2, condition="good", reason="spare"),
        ],
    )
    record = closed.returns.get()
    page = sign_in(coordinator)
    page.goto(page.url + "orders/returns/", wait_until="load")
    card = page.locator(f"#returned-{closed.pk}")

    # The damaged line is chosen in full, the good one not; the coordinator takes 2 of 3
    damaged = card.get_by_label("How many RRU-D1 to replace")
    expect(damaged).to_have_value("3")
    expect(card.get_by_label("How many ANT-G2 to replace")).to_have_value("0")
    damaged.fill("2")
    card.get_by_label(f"Resolve return #{record.pk}").select_option("replace")
    card.get_by_label("Why").fill("Two radios are enough now")
    card.get_by_role("button", name="Resolve").click()

    expect(card.get_by_role("status")).to_contain_text("replacement order")
    replacement = Order.objects.get(kind=OrderKind.REPLACEMENT)
    assert [(ln.item.code, ln.quantity) for ln in replacement.lines.select_related("item")] == [
        ("RRU-D1", 2)
    ]


def test_coordinator_reopens_a_returned_order_and_edits_its_lines(sign_in, coordinator):
    returned = factories.order_in(OrderStatus.FULLY_RETURNED)
    record = returned.returns.get()
    page = sign_in(coordinator)
    page.goto(page.url + "orders/returns/")

    card = page.locator(f"#returned-{returned.pk}")
    card.get_by_label(f"Resolve return #{record.pk}").select_option("reopen")
    card.get_by_label("Why").fill("Design changed: fewer radios")
    card.get_by_role("button", name="Resolve").click()

    expect(card.get_by_role("status")).to_contain_text("back in draft")
    card.get_by_role("link", name="Edit lines").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(returned.number)
    assert Order.objects.get(pk=returned.pk).status == OrderStatus.DRAFT


def test_coordinator_releases_allocated_orders_in_bulk(sign_in, coordinator):
    orders = [factories.order_in(OrderStatus.ALLOCATED) for _ in range(2)]
    page = sign_in(coordinator)
    page.goto(page.url + "orders/?status=allocated")
    for order in orders:
        page.get_by_label(f"Select {order.number}").check()
    page.get_by_label("Action").select_option("release")
    page.get_by_role("button", name="Apply").click()

    expect(page.locator("#bulk-results .bulk-summary")).to_have_text("2 of 2 released")
    assert {Order.objects.get(pk=o.pk).status for o in orders} == {OrderStatus.RELEASED}
