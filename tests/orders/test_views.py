"""The back office: what each person sees and may do, and how refusals look."""

import pytest
from django.test import Client
from django.urls import reverse

from orders.choices import OrderStatus
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db


def detail_url(order):
    return reverse("orders:detail", args=[order.number])


def transition_url(order, name):
    return reverse("orders:transition", args=[order.number, name])


def test_pages_need_a_login(client):
    response = client.get(reverse("orders:queue"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_queue_filters_and_answers_htmx_with_the_fragment(coordinator_client):
    approved = factories.order_in(OrderStatus.APPROVED)
    draft = factories.make_order()
    page = coordinator_client.get(reverse("orders:queue"), {"status": "approved"})
    assert page.status_code == 200 and b"<html" in page.content
    assert approved.number.encode() in page.content and draft.number.encode() not in page.content
    fragment = coordinator_client.get(
        reverse("orders:queue"), {"status": "draft"}, headers={"HX-Request": "true"}
    )
    assert b"<html" not in fragment.content and draft.number.encode() in fragment.content


def test_bad_filters_are_shown_not_crashed(coordinator_client):
    response = coordinator_client.get(reverse("orders:queue"), {"status": "flying"})
    assert response.status_code == 200 and b"not valid" in response.content


def test_the_queue_runs_a_fixed_number_of_queries(
    coordinator_client, django_assert_max_num_queries
):
    # Session, user, permissions (2), the live-update mark, saved views, the tabs'
    # counts, the person's orders, the page's ids, its rows, their open releases, the
    # markets and the coordinators of the filter's choices.
    for _ in range(3):
        factories.make_order()
    with django_assert_max_num_queries(13) as few:
        coordinator_client.get(reverse("orders:queue"))
    for _ in range(12):
        factories.make_order()
    with django_assert_max_num_queries(len(few.captured_queries)):
        coordinator_client.get(reverse("orders:queue"))


def test_the_queue_shows_release_deliveries_in_a_fixed_number_of_queries(
    coordinator_client, django_assert_max_num_queries
):
    # The open releases of a page's orders are read in one more query (a prefetch).
    for _ in range(2):
        factories.order_in(OrderStatus.RELEASED)
    with django_assert_max_num_queries(13) as few:
        page = coordinator_client.get(reverse("orders:queue")).content.decode()
    assert page.count("Sending to warehouse") == 2
    for _ in range(6):
        factories.order_in(OrderStatus.RELEASED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = coordinator_client.get(reverse("orders:queue")).content.decode()
    assert page.count("Sending to warehouse") == 8


def test_a_viewer_sees_no_action_buttons(viewer_client):
    order = factories.make_order()
    page = viewer_client.get(detail_url(order)).content.decode()
    assert ">Approve</button>" not in page and "Edit lines" not in page
    assert "Nothing for you to do on it from here." in page
    queue = viewer_client.get(reverse("orders:queue")).content.decode()
    assert 'name="orders"' not in queue


def test_edits_are_refused_without_permission(viewer_client):
    order = factories.make_order()
    assert viewer_client.get(reverse("orders:lines", args=[order.number])).status_code == 403


def _dead_letter() -> str:
    from orders import ingestion

    project = factories.ProjectFactory(construction_start_on="2026-05-01")
    body = {
        "event_id": "evt-refused",
        "type": "design_approved",
        "project_id": project.external_id,
        "order_type": "radio",
        "occurred_at": "2026-11-01T09:00:00Z",
        "need_by": "2026-12-15",
        "items": [{"item": "NOPE", "quantity": 1}],
    }
    return ingestion.process(ingestion.receive(body, received_from="tests").event).event_id


# Every change a person makes on an order page: (url, form data) for a draft order.
CHANGES = {
    "approve": lambda o: (transition_url(o, "approve"), {"version": o.version}),
    "reject": lambda o: (
        transition_url(o, "reject"),
        {"version": o.version, "reason_code": "other", "reason_text": "x"},
    ),
    "cancel": lambda o: (
        transition_url(o, "cancel"),
        {"version": o.version, "reason_code": "other", "reason_text": "x"},
    ),
    "bulk approve": lambda o: (reverse("orders:bulk"), {"action": "approve", "orders": o.number}),
    "edit lines": lambda o: (
        reverse("orders:lines", args=[o.number]),
        {"version": o.version, f"qty_{o.lines.get().pk}": 9},
    ),
    "add a note": lambda o: (reverse("orders:add_note", args=[o.number]), {"text": "Hello"}),
    "reprocess a dead letter": lambda o: (
        reverse("orders:design_event", args=[_dead_letter()]),
        {"reprocess": "1"},
    ),
}


def _unchanged(order) -> bool:
    from orders.models import DesignEvent, OrderNote

    fresh = Order.objects.get(pk=order.pk)
    return (
        (fresh.status, fresh.version) == (OrderStatus.DRAFT, order.version)
        and not OrderNote.objects.exists()
        and not DesignEvent.objects.filter(attempts__gt=1).exists()
    )


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_is_refused_without_permission(viewer_client, change):
    order = factories.make_order()
    url, data = CHANGES[change](order)
    assert viewer_client.post(url, data).status_code == 403
    assert _unchanged(order)


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_needs_the_csrf_token(coordinator, change):
    http = Client(enforce_csrf_checks=True)
    http.force_login(coordinator)
    order = factories.make_order()
    url, data = CHANGES[change](order)
    assert http.post(url, data).status_code == 403
    assert _unchanged(order)


def test_approve_from_the_order_page(coordinator_client, coordinator):
    order = factories.make_order()
    page = coordinator_client.get(detail_url(order)).content.decode()
    assert transition_url(order, "approve") in page
    response = coordinator_client.post(
        transition_url(order, "approve"), {"version": order.version}, follow=True
    )
    assert b"Approve: done." in response.content
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED
    assert order.history.first().history_user == coordinator


def test_an_action_on_a_changed_order_is_refused(coordinator_client):
    order = factories.make_order()
    stale_version = order.version
    factories.services.order_approve(order=order, actor=factories.SETUP)
    response = coordinator_client.post(
        transition_url(order, "reject"),
        {"version": stale_version, "reason_code": "other", "reason_text": "x"},
        follow=True,
    )
    assert b"changed since you opened it" in response.content
    assert Order.objects.get(pk=order.pk).status == OrderStatus.APPROVED


def test_reject_needs_a_reason_and_shows_the_banner(coordinator_client):
    order = factories.order_in(OrderStatus.APPROVED)
    missing = coordinator_client.post(transition_url(order, "reject"), {"version": order.version})
    assert missing.status_code == 400 and b"This field is required." in missing.content
    assert Order.objects.get(pk=order.pk).status == OrderStatus.APPROVED
    response = coordinator_client.post(
        transition_url(order, "reject"),
        {"version": order.version, "reason_code": "data_mismatch", "reason_text": "Wrong mast"},
        follow=True,
    )
    assert b'class="banner bad"' in response.content and b"Wrong mast" in response.content


def test_bulk_approve_reports_each_order(coordinator_client):
    good = [factories.make_order() for _ in range(2)]
    held = factories.make_order(project=factories.ProjectFactory(status="on_hold"))
    response = coordinator_client.post(
        reverse("orders:bulk"),
        {"action": "approve", "orders": [o.number for o in [*good, held]]},
        headers={"HX-Request": "true"},
    )
    text = response.content.decode()
    assert "2 of 3 approved" in text and text.count('class="bad"') == 1
    assert f"{held.number}</a>: it cannot be approved yet: project " in text
    assert "is on hold" in text


def test_bulk_reject_needs_a_reason(coordinator_client):
    order = factories.order_in(OrderStatus.APPROVED)
    response = coordinator_client.post(
        reverse("orders:bulk"), {"action": "reject", "orders": [order.number]}
    )
    assert b"need a reason" in response.content
    assert Order.objects.get(pk=order.pk).status == OrderStatus.APPROVED


@pytest.mark.parametrize("code", ["warehouse_rejected", "upstream_change", "flying"])
def test_a_person_cannot_give_a_system_reason_code(coordinator_client, code):
    order = factories.order_in(OrderStatus.APPROVED)
    single = coordinator_client.post(
        transition_url(order, "reject"),
        {"version": order.version, "reason_code": code, "reason_text": "x"},
    )
    assert single.status_code == 400 and b"Select a valid choice." in single.content
    bulk = coordinator_client.post(
        reverse("orders:bulk"),
        {"action": "reject", "orders": [order.number], "reason_code": code, "reason_text": "x"},
    )
    assert bulk.status_code == 200 and b"Reason: Select a valid choice." in bulk.content
    assert Order.objects.get(pk=order.pk).status == OrderStatus.APPROVED


def test_editing_lines_lands_in_the_timeline(coordinator_client, coordinator):
    order = factories.make_order()
    line = order.lines.get()
    url = reverse("orders:lines", args=[order.number])
    response = coordinator_client.post(
        url, {"version": order.version, f"qty_{line.pk}": 9}, follow=True
    )
    assert b"Lines saved." in response.content
    assert "quantity: 5 → 9".encode() in response.content
    line.refresh_from_db()
    assert line.quantity == 9


def test_a_stale_edit_is_refused_with_the_fresh_data(coordinator_client):
    order = factories.make_order()
    line = order.lines.get()
    factories.services.order_edit_lines(
        order=order,
        edits=factories.services.LineEdits(quantities={line.pk: 7}),
        actor=factories.SETUP,
    )
    response = coordinator_client.post(
        reverse("orders:lines", args=[order.number]),
        {"version": order.version, f"qty_{line.pk}": 9},
    )
    assert response.status_code == 409
    assert b"changed since you loaded it" in response.content
    assert b'value="7"' in response.content
    line.refresh_from_db()
    assert line.quantity == 7


def test_adding_an_unknown_item_is_an_error_next_to_the_field(coordinator_client):
    order = factories.make_order()
    response = coordinator_client.post(
        reverse("orders:lines", args=[order.number]),
        {
            "version": order.version,
            f"qty_{order.lines.get().pk}": 5,
            "add_item": "NOPE",
            "add_quantity": 1,
        },
    )
    assert response.status_code == 400 and b"There is no item NOPE." in response.content


def test_dashboard_and_job_runs(coordinator_client):
    factories.make_order()
    page = coordinator_client.get(reverse("home"))
    assert page.status_code == 200 and b"Orders by status" in page.content
    assert coordinator_client.get(reverse("jobs")).status_code == 200


def test_a_dead_letter_is_corrected_in_the_browser(coordinator_client):
    import json

    from orders import ingestion

    factories.ItemFactory(code="RRU-A")
    project = factories.ProjectFactory(construction_start_on="2026-05-01")
    body = {
        "event_id": "evt-ui",
        "type": "design_approved",
        "project_id": project.external_id,
        "order_type": "radio",
        "occurred_at": "2026-11-01T09:00:00Z",
        "need_by": "2026-12-15",
        "items": [{"item": "NOPE", "quantity": 1}],
    }
    ingestion.process(ingestion.receive(body, received_from="tests").event)
    listing = coordinator_client.get(reverse("orders:design_events"))
    assert b"evt-ui" in listing.content and b"Item NOPE is unknown." in listing.content
    fixed = {**body, "items": [{"item": "RRU-A", "quantity": 1}]}
    response = coordinator_client.post(
        reverse("orders:design_event", args=["evt-ui"]),
        {"payload": json.dumps(fixed)},
        follow=True,
    )
    assert b"Processed: Order created." in response.content
    assert Order.objects.filter(project=project).count() == 1


def test_item_search_offers_active_items_and_the_successor_of_a_replaced_one(coordinator_client):
    successor = factories.ItemFactory(code="ANT-200", description="Panel antenna new")
    factories.ItemFactory(
        code="ANT-100", description="Panel antenna old", lifecycle="replaced", replaced_by=successor
    )
    response = coordinator_client.get(reverse("orders:item_search"), {"add_item": "ANT"})
    text = response.content.decode()
    assert '<option value="ANT-200">ANT-100 Panel antenna old — replaced by ANT-200' in text
    assert '<option value="ANT-200">ANT-200 Panel antenna new</option>' in text
