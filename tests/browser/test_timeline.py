"""The order's timeline in a real browser: one entry per action, filtered in place by
who acted and what kind of change, times with their zone, revision and version
explained."""

import re

import pytest
from playwright.sync_api import expect

from oms.actors import Actor
from orders import services
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="tess", role="coordinator")


def test_coordinator_reads_one_entry_per_action_and_filters_the_timeline(sign_in, coordinator):
    # Given an order whose two lines a coordinator edited in one save, and a system approval
    items = [factories.ItemFactory(code="RRU-T1"), factories.ItemFactory(code="ANT-T2")]
    order = factories.make_order(lines=[(items[0], 2), (items[1], 3)])
    lines = {line.item.code: line.pk for line in order.lines.select_related("item")}
    person = Actor.person(coordinator)
    order = services.order_edit_lines(
        order=order,
        edits=services.LineEdits(quantities={lines["RRU-T1"]: 4, lines["ANT-T2"]: 6}),
        actor=person,
    )
    services.order_add_note(order=order, actor=person, text="Both sectors need spares.")
    services.order_approve(order=order, actor=factories.SETUP)

    page = sign_in(coordinator)
    page.goto(page.url + f"orders/{order.number}/", wait_until="load")
    timeline = page.locator("#timeline")

    # The edit of both lines is one entry, with both changes under it
    edit = timeline.locator("ol.timeline > li").filter(has_text="line RRU-T1 changed")
    expect(edit).to_have_count(1)
    expect(edit).to_contain_text("line ANT-T2 changed")
    expect(edit.locator(".when")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
    approved_at = re.compile(r"approved at: — → \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
    expect(timeline).to_contain_text(approved_at)
    expect(timeline).not_to_contain_text("correlation id")
    expect(page.get_by_text("how many designs from engineering")).to_be_visible()
    expect(page.get_by_text("goes up with every saved change")).to_be_visible()

    # Only what people did, without a reload
    page.get_by_label("Who").select_option("person")
    expect(timeline).not_to_contain_text("order changed")
    expect(timeline).to_contain_text("line RRU-T1 changed")
    expect(timeline).to_contain_text("note added")

    # Only the notes
    page.get_by_label("What").select_option("note")
    expect(timeline).not_to_contain_text("line RRU-T1 changed")
    expect(timeline).to_contain_text("Both sectors need spares.")
    expect(page).to_have_url(re.compile(rf"/orders/{order.number}/$"))
