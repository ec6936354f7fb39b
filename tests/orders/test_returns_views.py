"""The returns queue and the release actions of the back office: who may do what, the
CSRF token, and a result for each order or return."""

import pytest
from django.test import Client
from django.urls import reverse

from orders.choices import OrderKind, OrderStatus
from orders.models import Order
from tests import factories
from warehouse.ledger.choices import ReturnResolution
from warehouse.ledger.models import Return

pytestmark = pytest.mark.django_db


@pytest.fixture
def returned():
    """A PARTIALLY_RETURNED order: 5 shipped, 1 came back in good condition."""
    return factories.order_in(OrderStatus.PARTIALLY_RETURNED)


def resolve_url(record):
    return reverse("orders:resolve_return", args=[record.pk])


def test_the_returns_queue_lists_returned_orders_with_their_returns(coordinator_client):
    partly = factories.order_in(OrderStatus.PARTIALLY_RETURNED)
    fully = factories.order_in(OrderStatus.FULLY_RETURNED)
    closed = factories.order_in(OrderStatus.CLOSED)

    page = coordinator_client.get(reverse("orders:returns")).content.decode()

    assert partly.number in page and fully.number in page and closed.number not in page
    for record in Return.objects.all():
        assert f'action="{resolve_url(record)}"' in page


def test_a_viewer_sees_the_queue_without_resolve_forms(viewer_client, returned):
    page = viewer_client.get(reverse("orders:returns")).content.decode()
    assert returned.number in page and "Resolve return" not in page


def test_the_returns_queue_runs_a_fixed_number_of_queries(
    coordinator_client, django_assert_max_num_queries
):
    factories.order_in(OrderStatus.PARTIALLY_RETURNED)
    with django_assert_max_num_queries(14) as few:
        coordinator_client.get(reverse("orders:returns"))
    for status in [OrderStatus.PARTIALLY_RETURNED, OrderStatus.FULLY_RETURNED] * 3:
        factories.order_in(status)
    with django_assert_max_num_queries(len(few.captured_queries)):
        coordinator_client.get(reverse("orders:returns"))


@pytest.mark.parametrize("resolution", ["close", "reopen", "replace"])
def test_resolving_is_refused_without_permission(viewer_client, returned, resolution):
    record = returned.returns.get()
    response = viewer_client.post(
        resolve_url(record), {"resolution": resolution, "reason": "not mine to decide"}
    )
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.resolution == ""


@pytest.mark.parametrize("resolution", ["close", "reopen", "replace"])
def test_resolving_needs_the_csrf_token(coordinator, returned, resolution):
    http = Client(enforce_csrf_checks=True)
    http.force_login(coordinator)
    record = returned.returns.get()
    response = http.post(resolve_url(record), {"resolution": resolution, "reason": "x"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.resolution == ""


def test_closing_a_return_from_the_queue(coordinator_client, coordinator, returned):
    record = returned.returns.get()

    response = coordinator_client.post(
        resolve_url(record),
        {"resolution": "close", "reason": "Spare radio, keep it"},
        headers={"HX-Request": "true"},
    )

    text = response.content.decode()
    assert b"<html" not in response.content and "closed as final" in text
    assert "Closed as final" in text and "Spare radio, keep it" in text
    record.refresh_from_db()
    assert (record.resolution, record.resolved_by) == (ReturnResolution.CLOSED, coordinator)
    assert Order.objects.get(pk=returned.pk).status == OrderStatus.CLOSED


def test_reopening_from_the_queue_leads_to_the_line_editor(coordinator_client, returned):
    record = returned.returns.get()

    response = coordinator_client.post(
        resolve_url(record),
        {"resolution": "reopen", "reason": "Needs another radio"},
        headers={"HX-Request": "true"},
    )

    assert Order.objects.get(pk=returned.pk).status == OrderStatus.DRAFT
    assert reverse("orders:lines", args=[returned.number]) in response.content.decode()


def test_a_replacement_from_the_queue_links_to_the_new_order(coordinator_client, returned):
    record = returned.returns.get()
    line = record.lines.get()

    response = coordinator_client.post(
        resolve_url(record),
        {"resolution": "replace", "reason": "Unit was faulty", f"replace_{line.pk}": "1"},
        follow=True,
    )

    replacement = Order.objects.get(kind=OrderKind.REPLACEMENT)
    assert replacement.parent == returned
    assert f"replacement order {replacement.number} created" in response.content.decode()


def test_a_replacement_of_nothing_or_more_than_came_back_is_refused_and_says_so(
    coordinator_client, returned
):
    record = returned.returns.get()
    line = record.lines.select_related("order_line__item").get()

    pages = [
        coordinator_client.post(
            resolve_url(record),
            {"resolution": "replace", "reason": "faulty", f"replace_{line.pk}": quantity},
            follow=True,
        ).content.decode()
        for quantity in ("0", "99", "two")
    ]

    assert "Choose at least one returned line" in pages[0]
    assert f"Replace {line.order_line.item.code}: Ensure this value is less than" in pages[1]
    assert f"Replace {line.order_line.item.code}: Enter a whole number." in pages[2]
    assert not Order.objects.filter(kind=OrderKind.REPLACEMENT).exists()


def test_a_resolution_without_a_reason_is_refused_and_says_so(coordinator_client, returned):
    record = returned.returns.get()

    response = coordinator_client.post(
        resolve_url(record), {"resolution": "close", "reason": "  "}, follow=True
    )

    assert b"say why" in response.content
    record.refresh_from_db()
    assert record.resolution == ""


def test_resolving_twice_reports_the_first_resolution(coordinator_client, returned):
    record = returned.returns.get()
    coordinator_client.post(resolve_url(record), {"resolution": "close", "reason": "fine"})

    response = coordinator_client.post(
        resolve_url(record),
        {"resolution": "replace", "reason": "double click"},
        headers={"HX-Request": "true"},
    )

    assert "already resolved" in response.content.decode()
    assert not Order.objects.filter(kind=OrderKind.REPLACEMENT).exists()


def test_the_resolved_tab_says_who_resolved_what_and_why(coordinator_client, returned):
    record = returned.returns.get()
    coordinator_client.post(resolve_url(record), {"resolution": "close", "reason": "Spare"})

    page = coordinator_client.get(reverse("orders:returns"), {"state": "resolved"})

    text = page.content.decode()
    assert returned.number in text and "Closed as final" in text and "Spare" in text


# --- Release ----------------------------------------------------------------------------


def test_bulk_release_reports_each_order(coordinator_client):
    allocated = [factories.order_in(OrderStatus.ALLOCATED) for _ in range(2)]
    approved = factories.order_in(OrderStatus.APPROVED)

    response = coordinator_client.post(
        reverse("orders:bulk"),
        {"action": "release", "orders": [o.number for o in [*allocated, approved]]},
        headers={"HX-Request": "true"},
    )

    text = response.content.decode()
    assert "2 of 3 released" in text and text.count('class="bad"') == 1
    assert f"{approved.number}</a>: it is approved; only allocated orders can be released" in text
    assert text.count("Release queued for sending to warehouse") == 2 and ": done" not in text
    assert [Order.objects.get(pk=o.pk).status for o in allocated] == [OrderStatus.RELEASED] * 2


def test_the_queue_offers_bulk_release(coordinator_client):
    factories.order_in(OrderStatus.ALLOCATED)
    page = coordinator_client.get(reverse("orders:queue")).content.decode()
    assert '<option value="release">Release to warehouse</option>' in page


def test_bulk_release_is_refused_without_permission(viewer_client):
    order = factories.order_in(OrderStatus.ALLOCATED)
    response = viewer_client.post(
        reverse("orders:bulk"), {"action": "release", "orders": [order.number]}
    )
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED


def test_release_needs_the_csrf_token(coordinator):
    http = Client(enforce_csrf_checks=True)
    http.force_login(coordinator)
    order = factories.order_in(OrderStatus.ALLOCATED)
    single = http.post(
        reverse("orders:transition", args=[order.number, "release"]), {"version": order.version}
    )
    bulk = http.post(reverse("orders:bulk"), {"action": "release", "orders": [order.number]})
    assert (single.status_code, bulk.status_code) == (403, 403)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED


def test_release_from_the_order_page(coordinator_client):
    order = factories.order_in(OrderStatus.ALLOCATED)
    url = reverse("orders:transition", args=[order.number, "release"])
    assert (
        url
        in coordinator_client.get(reverse("orders:detail", args=[order.number])).content.decode()
    )

    response = coordinator_client.post(url, {"version": order.version}, follow=True)

    code = Order.objects.get(pk=order.pk).releases.get().warehouse.code
    assert f"Release queued for sending to warehouse {code}.".encode() in response.content
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RELEASED
