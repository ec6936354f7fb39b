"""Where a release request is, in a coordinator's words: each delivery state, the last
error read back into plain words, and the time of the next attempt recorded by the
attempt that failed."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from orders.choices import OrderStatus
from tests import factories
from tests.warehouse.stub_server import Reply
from warehouse.integration import client, dispatch
from warehouse.integration.choices import ReleaseStatus
from warehouse.integration.delivery import DeliveryState, explain, order_delivery, release_delivery
from warehouse.integration.models import Release

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 5, 4, 10, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            "connection failed: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries "
            "exceeded (Caused by NewConnectionError(... [Errno 111] Connection refused))",
            "The warehouse could not be reached.",
        ),
        (
            "timed out: HTTPConnectionPool(...): Read timed out.",
            "The warehouse did not answer in time.",
        ),
        (client.NO_URL, "No address is set up for the warehouse's system."),
        (
            client.CIRCUIT_OPEN.format(code="W1"),
            "Calls to the warehouse are paused after several failed in a row.",
        ),
        (
            '422 Unprocessable Entity: {"detail": "Item RRU-9 is not stocked here."}',
            "The warehouse refused the release: Item RRU-9 is not stocked here.",
        ),
        (
            "400 Bad Request: <html><body>Bad</body></html>",
            "The warehouse refused the release (error 400).",
        ),
        (
            "503 Service Unavailable: maintenance",
            "The warehouse's system had a problem (error 503).",
        ),
        (
            "429 Too Many Requests: slow down",
            "The warehouse asked OMS to wait before sending more.",
        ),
        ("something nobody expected", "The last attempt failed."),
    ],
)
def test_the_last_error_of_a_release_is_put_in_plain_words(error, words):
    assert explain(error) == words


def _release(**fields) -> Release:
    warehouse = factories.WarehouseFactory.build(code="W1")
    return Release(warehouse=warehouse, created_at=NOW, **fields)


def test_each_delivery_state_says_what_happened_and_what_to_do():
    at = NOW - datetime.timedelta(minutes=5)
    sending = release_delivery(_release(), now=NOW)
    retrying = release_delivery(
        _release(
            attempts=2,
            last_error="connection failed: refused",
            next_attempt_at=NOW + datetime.timedelta(minutes=3),
        ),
        now=NOW,
    )
    overdue = release_delivery(
        _release(attempts=2, last_error="timed out", next_attempt_at=at), now=NOW
    )
    not_delivered = release_delivery(
        _release(
            attempts=20,
            last_error='409 Conflict: {"detail": "Order already closed"}',
            delivery_failed_at=at,
        ),
        now=NOW,
    )
    delivered = release_delivery(_release(attempts=1, sent_at=at), now=NOW)
    accepted = release_delivery(
        _release(status=ReleaseStatus.ACCEPTED, sent_at=at, accepted_at=at), now=NOW
    )
    rejected = release_delivery(
        _release(status=ReleaseStatus.REJECTED, reason="No stock of RRU-T1"), now=NOW
    )

    assert (sending.state, sending.label) == (DeliveryState.SENDING, "Sending to warehouse")
    assert sending.notice == ("success", "Release queued for sending to warehouse W1.")
    assert retrying.summary == (
        "Retrying delivery to warehouse W1 (2 attempts failed so far). The warehouse could "
        "not be reached. Next attempt at 10:03."
    )
    assert retrying.brief == "2 attempts failed; next at 10:03"
    assert retrying.notice[0] == "warning"
    assert "was due at 09:55 and is overdue" in overdue.summary
    assert not_delivered.summary == (
        "Not delivered to warehouse W1. The warehouse refused the release: Order already "
        "closed. OMS stopped trying at 09:55, after 20 attempts."
    )
    assert not_delivered.next_step == "Check the release with warehouse W1, then send it again."
    assert not_delivered.can_send_again and not_delivered.notice[0] == "error"
    assert delivered.state == DeliveryState.DELIVERED and "waiting for it to accept" in (
        delivered.summary
    )
    assert accepted.state == DeliveryState.ACCEPTED
    assert rejected.summary == "Rejected by warehouse W1: No stock of RRU-T1"
    assert order_delivery([_release(sent_at=at), _release(delivery_failed_at=at)], now=NOW) == (
        release_delivery(_release(delivery_failed_at=at), now=NOW)
    )


def test_a_failed_attempt_records_when_the_next_one_is_due(released, warehouse_stub):
    _, release = released
    warehouse_stub.answer(Reply(503, {"detail": "maintenance"}))
    before = timezone.now()

    with pytest.raises(dispatch.RetryLater) as later:
        dispatch.release_send(release_pk=release.pk, attempt=1, last_try=False)

    release.refresh_from_db()
    due = before + datetime.timedelta(seconds=later.value.countdown)
    assert abs((release.next_attempt_at - due).total_seconds()) < 1
    assert release_delivery(release).state == DeliveryState.RETRYING

    warehouse_stub.answer(Reply(202, {}))
    assert dispatch.release_send(release_pk=release.pk, attempt=2, last_try=False) == "delivered"
    release.refresh_from_db()
    assert release.next_attempt_at is None
    assert release_delivery(release).state == DeliveryState.DELIVERED


def test_releasing_says_the_request_is_queued_not_done(coordinator_client):
    order = factories.order_in(OrderStatus.ALLOCATED)

    response = coordinator_client.post(reverse("orders:transition", args=[order.number, "release"]))

    code = order.releases.get().warehouse.code
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Release queued for sending to warehouse {code}."
    ]


def test_the_queue_shows_an_undelivered_release_in_words(coordinator_client):
    order = factories.order_in(OrderStatus.RELEASED)
    order.releases.update(
        delivery_failed_at=timezone.now(), attempts=1, last_error="connection failed: refused"
    )

    page = coordinator_client.get(reverse("orders:queue")).content.decode()

    assert "Release not delivered" in page
    assert "The warehouse could not be reached. Send it again from the order." in page
    assert "connection failed" not in page


def test_raw_errors_are_shown_to_staff_only_folded_away(coordinator_client, admin_client):
    order = factories.order_in(OrderStatus.RELEASED)
    raw = "connection failed: [Errno 111] Connection refused"
    order.releases.update(delivery_failed_at=timezone.now(), attempts=1, last_error=raw)
    url = reverse("orders:detail", args=[order.number])

    coordinator_page = coordinator_client.get(url).content.decode()
    staff_page = admin_client.get(url).content.decode()

    assert "Errno" not in coordinator_page
    assert '<details class="technical"><summary>Technical detail</summary>' in staff_page
    assert "[Errno 111] Connection refused" in staff_page
