"""The order page shows its releases: delivery, what the warehouse answered, what it
shipped, and a way to send a release again that OMS stopped retrying."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oms.relay import relay_pending
from oms.scopes import Scope
from warehouse.integration import dispatch
from warehouse.integration.models import Release

pytestmark = pytest.mark.django_db


def page(http, order) -> str:
    response = http.get(reverse("orders:detail", args=[order.number]))
    assert response.status_code == 200
    return response.content.decode()


def resend_url(order, release) -> str:
    return reverse("orders:resend_release", args=[order.number, release.release_id])


def test_the_order_page_shows_a_short_shipment_and_the_calls_on_the_timeline(
    released, warehouse_stub, make_caller, coordinator_client
):
    order, release = released
    dispatch.release_send(release_pk=release.pk, attempt=1, last_try=False)
    wms = make_caller(Scope.WAREHOUSE_WRITE, name="wms")
    lines = [{"item": "RRU-T1", "shipped": 1}, {"item": "ANT-T1", "shipped": 2}]
    url = f"/api/v1/warehouse/releases/{release.release_id}/completed/"
    wms.post(url, {"event_id": "ev-short", "lines": lines})

    html = page(coordinator_client, order)

    assert f"Release to {release.warehouse.code}" in html
    assert "short by 2" in html
    assert "completed by the warehouse" in html  # the release event on the timeline
    assert "call delivered" in html and f"{warehouse_stub.url}/releases -&gt; 202" in html
    assert "warehouse event ev-short" in html


def test_a_release_not_delivered_shows_why_and_a_coordinator_sends_it_again(
    released, warehouse_stub, coordinator_client, django_capture_on_commit_callbacks
):
    order, release = released
    Release.objects.filter(pk=release.pk).update(
        delivery_failed_at=timezone.now(), attempts=20, last_error="503 Service Unavailable"
    )

    html = page(coordinator_client, order)
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(resend_url(order, release))
        relay_pending()  # the relay hands release.resent on: the release is sent

    assert "Release not delivered" in html
    assert "The warehouse&#x27;s system had a problem (error 503)." in html
    assert "503 Service Unavailable" not in html  # the raw error is for staff
    assert resend_url(order, release) in html
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Release queued for sending to warehouse {release.warehouse.code}."
    ]
    release.refresh_from_db()
    assert release.sent_at is not None and release.delivery_failed_at is None
    assert len(warehouse_stub.received) == 1


def test_a_viewer_sees_no_send_again_button_and_cannot_send(released, viewer):
    order, release = released
    Release.objects.filter(pk=release.pk).update(delivery_failed_at=timezone.now())
    http = Client()
    http.force_login(viewer)

    html = page(http, order)
    response = http.post(resend_url(order, release))

    assert "Release not delivered" in html and resend_url(order, release) not in html
    assert "may not send releases" in str(next(iter(get_messages(response.wsgi_request))))
    release.refresh_from_db()
    assert release.delivery_failed_at is not None


def test_a_release_waiting_behind_an_open_circuit_says_so(released, coordinator_client, settings):
    from warehouse.integration.breaker import Breaker

    order, release = released
    settings.OMS_WAREHOUSE_BREAKER_FAILURES = 1
    Breaker(release.warehouse.code).record_failure()
    Release.objects.filter(pk=release.pk).update(attempts=3, last_error="connection failed")

    html = page(coordinator_client, order)

    assert "Retrying delivery" in html and "The warehouse could not be reached." in html
    assert f"Calls to warehouse {release.warehouse.code} are paused for a while" in html


def test_after_an_outage_the_admin_sends_every_release_not_delivered_again(
    released, warehouse_stub, admin_client, django_capture_on_commit_callbacks
):
    _, release = released
    waiting = Release.objects.filter(pk=release.pk)
    waiting.update(delivery_failed_at=timezone.now(), last_error="connection failed")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:warehouse_release_changelist"),
            {"action": "send_again", "_selected_action": [release.pk]},
            follow=True,
        )
        relay_pending()

    assert "Sent again: 1 releases." in response.content.decode()
    release.refresh_from_db()
    assert release.sent_at is not None and release.delivery_failed_at is None
