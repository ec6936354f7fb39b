"""A coordinator corrects a dead-lettered design event in a real browser: the box opens
with the event as a readable JSON object, a changed item code is saved and processed."""

import json

import pytest
from playwright.sync_api import expect

from orders import ingestion
from orders.models import DesignEvent, Order
from tests import factories

# The live server runs in another thread: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="dora", role="coordinator")


def _dead_letter(project) -> dict:
    body = {
        "event_id": "evt-typo",
        "type": "design_approved",
        "project_id": project.external_id,
        "order_type": "radio",
        "occurred_at": "2026-11-01T09:00:00Z",
        "need_by": "2026-12-15",
        "items": [{"item": "RRU-A", "quantity": 2}, {"item": "RRU-TYPO", "quantity": 1}],
    }
    ingestion.process(ingestion.receive(body, received_from="tests").event)
    assert DesignEvent.objects.get(event_id="evt-typo").status == "invalid"
    return body


def test_a_dead_letter_is_corrected_from_the_box_as_it_opens(sign_in, coordinator):
    factories.ItemFactory(code="RRU-A")
    factories.ItemFactory(code="RRU-B")
    project = factories.ProjectFactory(construction_start_on="2026-05-01")
    body = _dead_letter(project)
    page = sign_in(coordinator)

    page.get_by_role("navigation").get_by_role("link", name="Design events").click()
    expect(page).to_have_title("Design events · OMS")
    expect(page.get_by_role("heading", level=1)).to_have_text("Design events")
    row = page.get_by_role("row", name="evt-typo")
    expect(row).to_contain_text("Item line 2, item code: Item RRU-TYPO is unknown.")
    row.get_by_role("link", name="evt-typo").click()

    problems = page.get_by_role("alert")
    expect(problems).to_contain_text("Item line 2, item code: Item RRU-TYPO is unknown.")
    box = page.get_by_label("Corrected event (JSON)")
    shown = box.input_value()
    assert json.loads(shown) == body, "the box shows the event as a JSON object"
    assert '\n  "event_id": "evt-typo",\n' in shown, "pretty-printed, one field a line"
    box.fill(shown.replace('"RRU-TYPO"', '"RRU-B"'))
    page.get_by_role("button", name="Save the correction and process").click()

    expect(page.get_by_role("status")).to_contain_text("Processed: Order created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Processed")
    order = Order.objects.get(project=project)
    page.get_by_role("link", name=order.number).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(order.number)
    assert sorted(order.lines.values_list("item__code", flat=True)) == ["RRU-A", "RRU-B"]
