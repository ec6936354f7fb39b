"""The dead-letter page: a design event that failed shows its problems in a
coordinator's words, and opens for correction as the JSON object it is."""

import json

import pytest
from django.urls import reverse

from orders import ingestion
from orders.event_words import field_words, in_field_order, problem_sentence
from orders.models import DesignEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_letter():
    from tests import factories

    factories.ItemFactory(code="RRU-A")
    project = factories.ProjectFactory(construction_start_on="2026-05-01")
    body = {
        "event_id": "evt-dl",
        "type": "design_approved",
        "project_id": project.external_id,
        "order_type": "radio",
        "occurred_at": "2026-11-01T09:00:00Z",
        "need_by": "2026-12-15",
        "items": [{"item": "RRU-A", "quantity": 1}, {"item": "NOPE", "quantity": 2}],
    }
    ingestion.process(ingestion.receive(body, received_from="tests").event)
    return body


def url(event_id="evt-dl"):
    return reverse("orders:design_event", args=[event_id])


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("items[2].item", "Item line 3, item code"),
        ("items[0].quantity", "Item line 1, quantity"),
        ("kits[1].kit", "Kit line 2, kit code"),
        ("items[4]", "Item line 5"),
        ("need_by", "Need-by date"),
        ("project_id", "Project"),
        ("", ""),
        ("something[0].else", "something[0].else"),
    ],
)
def test_a_problem_names_its_field_in_a_coordinators_words(path, words):
    assert field_words(path) == words


def test_a_problem_without_a_field_is_its_message_alone():
    assert problem_sentence({"code": "invalid", "message": "An event is a JSON object."}) == (
        "An event is a JSON object."
    )
    assert problem_sentence("odd") == "odd"


def test_the_payload_reads_in_the_documented_field_order():
    shown = in_field_order({"items": [], "zeta": 1, "type": "t", "event_id": "e"})
    assert list(shown) == ["event_id", "type", "items", "zeta"]


def test_the_correction_box_opens_with_the_event_as_a_pretty_json_object(
    coordinator_client, dead_letter
):
    page = coordinator_client.get(url())
    box = page.context["form"]["payload"].value()
    assert json.loads(box) == dead_letter
    assert box.startswith('{\n  "event_id": "evt-dl",\n  "type": "design_approved",\n')
    text = page.content.decode()
    assert "Item line 2, item code: Item NOPE is unknown." in text
    listing = coordinator_client.get(reverse("orders:design_events")).content.decode()
    assert "Item line 2, item code: Item NOPE is unknown." in listing


def test_the_box_as_it_opens_saves_and_processes(coordinator_client, dead_letter):
    box = coordinator_client.get(url()).context["form"]["payload"].value()
    response = coordinator_client.post(
        url(), {"payload": box.replace('"NOPE"', '"RRU-A"')}, follow=True
    )
    assert "Processed: Order created." in response.content.decode()
    event = DesignEvent.objects.get(event_id="evt-dl")
    assert event.status == "processed" and event.order is not None


def test_a_correction_still_invalid_says_so_and_shows_the_problems(coordinator_client, dead_letter):
    box = coordinator_client.get(url()).context["form"]["payload"].value()
    response = coordinator_client.post(
        url(), {"payload": box.replace('"NOPE"', '"NOPE-2"')}, follow=True
    )
    text = response.content.decode()
    assert "still invalid" in text and "Processed:" not in text
    assert "Item line 2, item code: Item NOPE-2 is unknown." in text
    assert DesignEvent.objects.get(event_id="evt-dl").status == "invalid"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ('"{\\"event_id\\": \\"evt-dl\\"}"', "The corrected event is a JSON object"),
        ('{"event_id": "evt-other"}', "The corrected event keeps its id: &quot;event_id&quot;"),
        ("[1, 2]", "The corrected event is a JSON object"),
        ("{not json", "Enter valid JSON"),
        ('{"event_id": "evt-dl", "x": "\\u0000"}', "NUL"),
    ],
)
def test_a_correction_that_is_not_the_event_is_refused_on_the_form(
    coordinator_client, dead_letter, typed, said
):
    response = coordinator_client.post(url(), {"payload": typed})
    assert response.status_code == 200
    assert said in response.content.decode()
    event = DesignEvent.objects.get(event_id="evt-dl")
    assert (event.status, event.corrected_payload) == ("invalid", None)
