"""A coordinator edits a draft in a real browser: the need-by date and priority with a
reason, a kit added twice over, three items added in one save."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import Order
from tests import factories

# The live server runs in another thread: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="cora", role="coordinator")


def test_coordinator_changes_need_by_and_priority_and_reads_why_on_the_timeline(
    sign_in, coordinator
):
    order = factories.make_order(national_priority=3)
    new_date = timezone.localdate() + datetime.timedelta(days=14)
    page = sign_in(coordinator)
    page.goto(page.url + f"orders/{order.number}/")

    page.get_by_text("Change need-by or priority…").click()
    form = page.get_by_role("form", name="Change need-by or priority")
    form.get_by_label("Need by", exact=True).fill("2020-01-01")
    form.get_by_label("Why", exact=True).fill("Tower crew booked early")
    page.get_by_role("button", name="Save need-by and priority").click()
    expect(page.locator("#id_header_need_by_error")).to_contain_text("is in the past")

    form.get_by_label("Need by", exact=True).fill(new_date.isoformat())
    form.get_by_label("Priority", exact=True).select_option("1")
    page.get_by_role("button", name="Save need-by and priority").click()

    expect(page.get_by_role("status")).to_contain_text("Need-by date and priority saved.")
    order_card = page.locator("section[aria-labelledby=h-order]")
    expect(order_card).to_contain_text(f"Need by{new_date:%Y-%m-%d}")
    expect(order_card).to_contain_text("PriorityP1 critical")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Tower crew booked early")
    expect(timeline).to_contain_text("P3 normal → P1 critical")
    assert Order.objects.get(pk=order.pk).national_priority == 1


def test_coordinator_adds_a_kit_twice_over_and_sees_its_items(sign_in, coordinator):
    antenna = factories.ItemFactory(code="ANT-65", description="Sector antenna")
    cable = factories.ItemFactory(code="JMP-03", description="Jumper cable 3 m")
    factories.make_kit("KIT-SECTOR", [(antenna, 1), (cable, 3)], name="Sector kit")
    order = factories.make_order(lines=[(cable, 4)])
    page = sign_in(coordinator)
    page.goto(page.url + f"orders/{order.number}/lines/")

    page.get_by_label("Kit", exact=True).select_option("KIT-SECTOR")
    page.get_by_label("Number of kits").fill("2")
    page.get_by_role("button", name="Save lines").click()

    expect(page.get_by_role("status")).to_contain_text("Lines saved.")
    lines = page.locator("section[aria-labelledby=h-lines] tbody")
    expect(lines.locator("tr", has_text="ANT-65")).to_contain_text("(KIT-SECTOR)")
    expect(lines.locator("tr", has_text="ANT-65").locator("td.num").first).to_have_text("2")
    expect(lines.locator("tr", has_text="JMP-03").locator("td.num").first).to_have_text("10")
    expect(page.locator(".timeline")).to_contain_text("kit KIT-SECTOR (version 1) added 2 times")


def test_coordinator_adds_three_items_in_one_save(sign_in, coordinator):
    items = [
        factories.ItemFactory(code=code, description=description)
        for code, description in [
            ("RRU-B4", "Radio unit band 4"),
            ("PSU-48", "Power supply 48 V"),
            ("GPS-01", "GPS antenna"),
            ("CLP-10", "Cable clamp"),
        ]
    ]
    order = factories.make_order()
    page = sign_in(coordinator)
    page.goto(page.url + f"orders/{order.number}/lines/")

    page.get_by_label("Item to add, row 1").fill("RRU-B4")
    page.get_by_label("Quantity to add, row 1").fill("2")
    page.get_by_label("Item to add, row 2").fill("NOPE")
    page.get_by_label("Quantity to add, row 2").fill("1")
    page.get_by_label("Item to add, row 3").fill("GPS-01")
    page.get_by_label("Quantity to add, row 3").fill("1")
    page.get_by_role("button", name="Add another row").click()
    page.get_by_label("Item to add, row 4").fill("CLP-10")
    page.get_by_label("Quantity to add, row 4").fill("12")
    page.get_by_role("button", name="Save lines").click()

    # The bad row is marked in its row; what was typed in the others stays.
    expect(page.locator("#id_add_item_2_error")).to_contain_text("There is no item NOPE.")
    expect(page.get_by_label("Item to add, row 4")).to_have_value("CLP-10")
    assert order.lines.count() == 1
    page.get_by_label("Item to add, row 2").fill("PSU-48")
    page.get_by_role("button", name="Save lines").click()

    expect(page.get_by_role("status")).to_contain_text("Lines saved.")
    lines = page.locator("section[aria-labelledby=h-lines] tbody")
    for code, quantity in [("RRU-B4", "2"), ("PSU-48", "1"), ("GPS-01", "1"), ("CLP-10", "12")]:
        expect(lines.locator("tr", has_text=code).locator("td.num").first).to_have_text(quantity)
    assert set(order.lines.values_list("item__code", flat=True)) >= {i.code for i in items}
    assert Order.objects.get(pk=order.pk).version == 2
