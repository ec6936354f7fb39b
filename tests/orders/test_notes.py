"""Notes on an order: who may add one, how a bad one is refused, and where it shows
(the notes card, the timeline, the API and the admin)."""

import pytest
from django.test import Client
from django.urls import reverse

from oms.actors import Actor
from oms.errors import ActionForbidden, ValidationFailed
from oms.scopes import Scope
from orders import services
from orders.choices import OrderStatus, TimelineKind
from orders.models import OrderNote
from orders.web.timeline import order_timeline
from tests import factories
from tests.apiclient import problem

pytestmark = pytest.mark.django_db


def note_url(order):
    return reverse("orders:add_note", args=[order.number])


def api_url(order):
    return f"/api/v1/orders/{order.number}/notes/"


# --- The service ------------------------------------------------------------------------


def test_a_note_records_its_author_and_shows_on_the_timeline(coordinator, coordinator_actor):
    order = factories.order_in(OrderStatus.RELEASED)
    version = order.version
    note = services.order_add_note(
        order=order, actor=coordinator_actor, text="  Crane booked for Tuesday.  "
    )
    assert (note.text, note.actor_kind, note.actor_name, note.author) == (
        "Crane booked for Tuesday.",
        "person",
        coordinator.get_username(),
        coordinator,
    )
    entry = order_timeline(order)[0]
    assert (entry.kind, entry.subject, entry.action, entry.detail, entry.actor_name) == (
        TimelineKind.NOTE,
        "note",
        "added",
        "Crane booked for Tuesday.",
        coordinator.get_username(),
    )
    order.refresh_from_db()
    assert order.version == version, "a note is not an edit and never makes an edit stale"


@pytest.mark.parametrize(
    ("text", "code"), [("", "required"), ("   \n ", "required"), ("x" * 2001, "too_long")]
)
def test_an_empty_or_oversized_note_is_refused(coordinator_actor, text, code):
    order = factories.make_order()
    with pytest.raises(ValidationFailed) as refused:
        services.order_add_note(order=order, actor=coordinator_actor, text=text)
    assert [(p.code, p.field) for p in refused.value.problems] == [(code, "text")]
    assert not OrderNote.objects.exists()


def test_a_viewer_may_not_add_a_note(viewer):
    order = factories.make_order()
    with pytest.raises(ActionForbidden):
        services.order_add_note(order=order, actor=Actor.person(viewer), text="Hello")
    assert not OrderNote.objects.exists()


# --- The order page ---------------------------------------------------------------------


def test_htmx_gets_the_notes_card_and_the_timeline_out_of_band(coordinator_client):
    order = factories.make_order()
    response = coordinator_client.post(
        note_url(order), {"text": "Call the landlord first."}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="notes"' in body and "Note added." in body
    assert 'id="timeline"' in body and 'hx-swap-oob="true"' in body
    assert body.count("Call the landlord first.") == 2  # the card and the timeline
    assert OrderNote.objects.get().text == "Call the landlord first."


def test_without_htmx_the_note_is_added_and_the_page_shown_again(coordinator_client):
    order = factories.make_order()
    response = coordinator_client.post(note_url(order), {"text": "Gate code 4711."}, follow=True)
    assert b"Note added." in response.content and b"Gate code 4711." in response.content


def test_an_empty_note_shows_the_error_next_to_the_field(coordinator_client):
    order = factories.make_order()
    page = coordinator_client.post(note_url(order), {"text": ""})
    assert page.status_code == 400 and b"This field is required." in page.content
    fragment = coordinator_client.post(
        note_url(order), {"text": "   "}, headers={"HX-Request": "true"}
    )
    assert b"This field is required." in fragment.content
    assert not OrderNote.objects.exists()


def test_the_order_page_lists_the_notes_and_offers_the_form(coordinator_client):
    order = factories.make_order()
    services.order_add_note(order=order, actor=factories.SETUP, text="First remark")
    page = coordinator_client.get(reverse("orders:detail", args=[order.number])).content
    assert b"First remark" in page and note_url(order).encode() in page


def test_a_viewer_sees_notes_without_the_form_and_may_not_post(viewer):
    order = factories.make_order()
    services.order_add_note(order=order, actor=factories.SETUP, text="Visible to all")
    http = Client()
    http.force_login(viewer)
    page = http.get(reverse("orders:detail", args=[order.number])).content
    assert b"Visible to all" in page and note_url(order).encode() not in page
    assert http.post(note_url(order), {"text": "Sneaky"}).status_code == 403
    assert OrderNote.objects.count() == 1


def test_adding_a_note_needs_the_csrf_token(coordinator):
    http = Client(enforce_csrf_checks=True)
    http.force_login(coordinator)
    order = factories.make_order()
    assert http.post(note_url(order), {"text": "No token"}).status_code == 403
    assert not OrderNote.objects.exists()


# --- The API ----------------------------------------------------------------------------


def test_the_api_adds_and_lists_notes(api):
    order = factories.make_order()
    created = api.post(api_url(order), {"text": "Delivery window 08-12."})
    assert created.status_code == 201
    assert created.json()["text"] == "Delivery window 08-12."
    assert created.json()["actor_kind"] == "client"
    listed = api.get(api_url(order)).json()
    assert [n["text"] for n in listed["results"]] == ["Delivery window 08-12."]
    timeline = api.get(f"/api/v1/orders/{order.number}/timeline/").json()
    assert timeline[0]["kind"] == "note" and timeline[0]["detail"] == "Delivery window 08-12."


def test_the_api_refuses_a_blank_note_and_a_reader(api, make_caller):
    order = factories.make_order()
    blank = api.post(api_url(order), {"text": "  "})
    assert blank.status_code == 400 and problem(blank)["status"] == 400
    reader = make_caller(Scope.ORDERS_READ)
    assert reader.get(api_url(order)).status_code == 200
    assert reader.post(api_url(order), {"text": "Hi"}).status_code == 403
    assert not OrderNote.objects.exists()


def test_a_retried_note_with_the_same_idempotency_key_is_added_once(api):
    order = factories.make_order()
    headers = {"Idempotency-Key": "note-1"}
    first = api.post(api_url(order), {"text": "Once"}, headers=headers)
    again = api.post(api_url(order), {"text": "Once"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert OrderNote.objects.count() == 1


def test_the_admin_shows_the_notes_of_an_order(admin_client):
    order = factories.make_order()
    services.order_add_note(order=order, actor=factories.SETUP, text="Seen in admin")
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200 and b"Seen in admin" in page.content
