"""A release the warehouse acknowledged and then never answered: asked about again
after a wait, idempotently by release id, and after the last ask left to a person on
the dashboard until an answer arrives."""

import datetime
import threading

import pytest
from django.urls import reverse
from django.utils import timezone

from oms.models import OutboxEvent
from oms.relay import relay_pending
from oms.scopes import Scope
from orders.web.timeline import order_timeline
from tests.concurrency import at_once
from tests.factories import SETUP
from tests.warehouse.processes import wait_for
from tests.warehouse.stub_server import Reply
from warehouse.integration import dispatch
from warehouse.integration.choices import CallOutcome, ReleaseStatus
from warehouse.integration.models import Release
from warehouse.integration.selectors import unanswered_releases

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _asking(settings):
    settings.OMS_WAREHOUSE_ANSWER_AFTER_MINUTES = 60
    settings.OMS_WAREHOUSE_MAX_ASKS = 2


def _taken(release, minutes_ago: float) -> Release:
    """The warehouse acknowledged the release this long ago and said nothing since."""
    sent_at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    Release.objects.filter(pk=release.pk).update(sent_at=sent_at, attempts=1)
    return Release.objects.get(pk=release.pk)


def _asked(release, minutes_ago: float) -> None:
    last = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    Release.objects.filter(pk=release.pk).update(last_asked_at=last)


def _left_to_a_person(release) -> Release:
    """Asked as often as OMS asks, and the last ask unanswered too."""
    _taken(release, minutes_ago=3 * 24 * 60)
    for _ in range(2):
        assert dispatch.ask_unanswered() == (1, 0)
        _asked(release, minutes_ago=61)
    assert dispatch.ask_unanswered() == (0, 1)
    return Release.objects.get(pk=release.pk)


def test_an_unanswered_release_is_asked_about_after_the_wait_and_not_before(
    released, warehouse_stub
):
    order, release = released
    _taken(release, minutes_ago=59)

    assert dispatch.ask_unanswered() == (0, 0)
    assert warehouse_stub.received == []

    _taken(release, minutes_ago=61)
    assert dispatch.ask_unanswered() == (1, 0)

    (request,) = warehouse_stub.received
    assert request.path == "/releases"
    assert request.headers["Idempotency-Key"] == str(release.release_id)
    assert request.body["release_id"] == str(release.release_id)
    release.refresh_from_db()
    assert release.asks == 1 and release.last_asked_at is not None
    assert release.status == ReleaseStatus.REQUESTED and release.unanswered_at is None
    call = release.calls.get()
    assert (call.attempt, call.outcome) == (1, CallOutcome.DELIVERED)
    assert call.request_summary.startswith("ask 1: release ")
    event = OutboxEvent.objects.get(event_type="release.asked")
    assert event.payload["reason"] == "No answer for 61 minutes; ask 1 of 2."
    entries = [e for e in order_timeline(order) if e.action.startswith("asked again")]
    assert [e.reason for e in entries] == ["No answer for 61 minutes; ask 1 of 2."]

    # The next ask waits as long again, from this one.
    assert dispatch.ask_unanswered() == (0, 0)
    _asked(release, minutes_ago=61)
    assert dispatch.ask_unanswered() == (1, 0)
    assert len(warehouse_stub.received) == 2


def test_the_same_ask_made_twice_has_one_effect(released, warehouse_stub):
    release = _taken(released[1], minutes_ago=61)

    outcomes = [dispatch.release_ask(release_pk=release.pk) for _ in range(2)]

    assert outcomes == ["asked", "skipped"]
    assert len(warehouse_stub.received) == 1
    release.refresh_from_db()
    assert release.asks == 1
    assert OutboxEvent.objects.filter(event_type="release.asked").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_ask_made_twice_at_once_has_one_effect(released, warehouse_stub):
    release = _taken(released[1], minutes_ago=61)

    outcomes = at_once(*[lambda: dispatch.release_ask(release_pk=release.pk)] * 2)

    assert sorted(outcomes) == ["asked", "skipped"]
    assert len(warehouse_stub.received) == 1
    assert Release.objects.get(pk=release.pk).asks == 1


def test_an_answered_release_is_not_asked_about(released, warehouse_stub):
    release = _taken(released[1], minutes_ago=61)
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.ACCEPTED)

    assert dispatch.ask_unanswered() == (0, 0)
    assert dispatch.release_ask(release_pk=release.pk) == "skipped"
    assert warehouse_stub.received == []


def test_a_failed_ask_counts_and_the_next_one_follows_after_the_wait(released, warehouse_stub):
    release = _taken(released[1], minutes_ago=61)
    warehouse_stub.answer(Reply(500, {"detail": "boom"}))

    assert dispatch.release_ask(release_pk=release.pk) == "failed"

    release.refresh_from_db()
    assert release.asks == 1
    assert release.calls.get().outcome == CallOutcome.FAILED
    assert dispatch.ask_unanswered() == (0, 0)


def test_after_the_last_ask_the_release_is_left_to_a_person_on_the_dashboard(
    released, warehouse_stub, client, coordinator
):
    order, release = released
    release = _left_to_a_person(release)

    assert release.asks == 2 and release.unanswered_at is not None
    assert len(warehouse_stub.received) == 2
    assert list(unanswered_releases()) == [release]
    assert OutboxEvent.objects.filter(event_type="release.unanswered").count() == 1
    assert dispatch.ask_unanswered() == (0, 0)  # nothing more is asked, nothing twice

    client.force_login(coordinator)
    page = client.get(reverse("home")).content.decode()

    code, short_id = release.warehouse.code, str(release.release_id)[:8]
    assert (
        f"Warehouse {code} has not answered the release of "
        f'<a href="{reverse("orders:detail", args=[order.number])}">{order.number}</a> '
        f"({short_id}) for 3\xa0days, though asked again 2 times: call them, or send it "
        "again from the order." in page
    )
    detail = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "Not answered: warehouse" in detail and "Call them, or send it again." in detail
    assert reverse("orders:resend_release", args=[order.number, release.release_id]) in detail


def test_an_answer_arriving_later_clears_it(
    released, warehouse_stub, make_caller, client, coordinator
):
    _, release = released
    release = _left_to_a_person(release)
    wms = make_caller(Scope.WAREHOUSE_WRITE, name="wms")

    answer = wms.post(
        f"/api/v1/warehouse/releases/{release.release_id}/accepted/", {"event_id": "late-1"}
    )

    assert answer.status_code == 200
    assert list(unanswered_releases()) == []
    client.force_login(coordinator)
    assert "has not answered" not in client.get(reverse("home")).content.decode()


def test_a_person_sends_an_unanswered_release_again(
    released, warehouse_stub, django_capture_on_commit_callbacks
):
    _, release = released
    release = _left_to_a_person(release)

    with django_capture_on_commit_callbacks(execute=True):
        dispatch.release_resend(release=release, actor=SETUP)
        relay_pending()  # the relay hands release.resent on: the warehouse is asked

    release.refresh_from_db()
    assert (release.asks, release.unanswered_at) == (1, None)
    assert len(warehouse_stub.received) == 3
    assert list(unanswered_releases()) == []
    assert OutboxEvent.objects.filter(event_type="release.resent").exists()


def test_the_send_again_button_asks_the_warehouse_with_the_next_relay(
    released, warehouse_stub, coordinator_client, django_capture_on_commit_callbacks
):
    order, release = released
    release = _left_to_a_person(release)

    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(
            reverse("orders:resend_release", args=[order.number, release.release_id])
        )
        relay_pending()

    assert len(warehouse_stub.received) == 3
    release.refresh_from_db()
    assert (release.asks, release.unanswered_at) == (1, None)
    detail = coordinator_client.get(reverse("orders:detail", args=[order.number]))
    assert "waiting for it to accept the release. Asked again once, last at" in (
        detail.content.decode()
    )


def test_the_admin_sends_unanswered_releases_again(
    released, warehouse_stub, admin_client, django_capture_on_commit_callbacks
):
    _, release = released
    release = _left_to_a_person(release)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:warehouse_release_changelist"),
            {"action": "send_again", "_selected_action": [release.pk]},
            follow=True,
        )
        relay_pending()

    assert "Sent again: 1 releases." in response.content.decode()
    assert len(warehouse_stub.received) == 3
    assert list(unanswered_releases()) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_silent_simulated_warehouse_answers_when_asked_again_and_the_order_closes(
    released, live_server, warehouse_token, settings
):
    from warehouse.integration.simulator import Behaviour, CallbackSender, Simulator, make_server

    order, release = released
    sender = CallbackSender(live_server.url, warehouse_token, workers=2)
    simulator = Simulator(
        Behaviour(accept_delay=0, complete_delay=0.1, silent_rate=1.0), sender, seed=1
    )
    server = make_server("127.0.0.1", 0, simulator)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    settings.OMS_WAREHOUSE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert dispatch.release_send(release_pk=release.pk, attempt=1, last_try=True) == (
            "delivered"
        )
        assert simulator.release(str(release.release_id))["silent"] is True
        _taken(release, minutes_ago=61)

        assert dispatch.ask_unanswered() == (1, 0)

        wait_for(
            lambda: Release.objects.get(pk=release.pk).status == ReleaseStatus.COMPLETED,
            timeout=15,
            what="the release completed",
        )
    finally:
        sender.stop()
        server.shutdown()
        server.server_close()
    order.refresh_from_db()
    assert order.status == "closed"
    assert Release.objects.get(pk=release.pk).asks == 1
    assert list(unanswered_releases()) == []
