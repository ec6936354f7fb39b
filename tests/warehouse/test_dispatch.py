"""Sending release requests: one attempt, recorded; retries for what a retry can fix,
with backoff and jitter; the breaker; giving up visibly; sending again."""

import datetime

import pytest
from django.utils import timezone

from oms.actors import Actor
from oms.errors import ActionForbidden, TransitionNotAllowed
from oms.models import OutboxEvent
from oms.relay import relay_pending
from tests.factories import SETUP
from tests.warehouse.stub_server import Reply
from warehouse.integration import dispatch
from warehouse.integration.breaker import Breaker, State
from warehouse.integration.choices import CallOutcome, ReleaseStatus
from warehouse.integration.models import Release, WarehouseCall
from warehouse.tasks import send_release

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.OMS_WAREHOUSE_RETRY_BASE_SECONDS = 2
    settings.OMS_WAREHOUSE_RETRY_MAX_SECONDS = 60
    settings.OMS_WAREHOUSE_BREAKER_FAILURES = 3


def _send(release, *, attempt=1, last_try=False):
    return dispatch.release_send(release_pk=release.pk, attempt=attempt, last_try=last_try)


def test_a_delivered_release_is_recorded_and_not_sent_again(released, warehouse_stub):
    _, release = released

    assert _send(release) == "delivered"
    assert _send(release) == "skipped"

    assert len(warehouse_stub.received) == 1
    release.refresh_from_db()
    assert release.sent_at is not None and release.attempts == 1 and not release.last_error
    (call,) = release.calls.all()
    assert (call.attempt, call.outcome, call.status_code) == (1, CallOutcome.DELIVERED, 202)
    assert call.url == f"{warehouse_stub.url}/releases"
    assert call.latency_ms >= 0


def test_a_release_the_warehouse_already_answered_is_not_sent(released, warehouse_stub):
    _, release = released
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.ACCEPTED)

    assert _send(release) == "skipped"
    assert warehouse_stub.received == []


def test_a_transient_failure_is_retried_later_with_backoff(released, warehouse_stub):
    _, release = released
    warehouse_stub.answer(Reply(503, {"detail": "maintenance"}))

    with pytest.raises(dispatch.RetryLater) as later:
        _send(release, attempt=3)

    assert 4 <= later.value.countdown <= 8  # the third wait: 8 s with jitter over its half
    release.refresh_from_db()
    assert release.attempts == 1 and release.sent_at is None
    assert release.delivery_failed_at is None
    assert release.last_error.startswith("503")
    assert release.calls.get().outcome == CallOutcome.RETRY


def test_the_warehouse_asking_to_wait_longer_is_respected(released, warehouse_stub):
    warehouse_stub.answer(Reply(429, {}, {"Retry-After": "120"}))

    with pytest.raises(dispatch.RetryLater) as later:
        _send(released[1])

    assert later.value.countdown == 120


def test_backoff_doubles_up_to_the_maximum_with_jitter():
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (6, 60), (30, 60)]:
        waits = [dispatch.backoff(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(set(waits)) > 100  # spread out, not in step


def test_after_the_last_attempt_the_release_waits_for_a_person(released, warehouse_stub):
    order, release = released
    warehouse_stub.answer(Reply(504))

    assert _send(release, attempt=20, last_try=True) == "failed"

    release.refresh_from_db()
    assert release.delivery_failed_at is not None and release.can_be_sent_again
    assert release.calls.get().outcome == CallOutcome.FAILED
    event = OutboxEvent.objects.get(event_type="release.not_delivered")
    assert event.aggregate_id == str(order.pk)
    assert event.payload["release_id"] == str(release.release_id)
    assert _send(release) == "skipped"  # until a person sends it again


def test_an_answer_no_retry_can_change_is_not_retried(released, warehouse_stub):
    _, release = released
    warehouse_stub.answer(Reply(422, {"detail": "unknown item"}))

    assert _send(release) == "failed"

    release.refresh_from_db()
    assert release.delivery_failed_at is not None
    assert "unknown item" in release.last_error
    # the warehouse answered: that is no reason to stop calling it
    assert Breaker(release.warehouse.code).state()[0] == State.CLOSED


def test_an_open_breaker_makes_no_call_and_waits_until_it_may_probe(
    released, warehouse_stub, settings
):
    _, release = released
    settings.OMS_WAREHOUSE_BREAKER_COOLDOWN_SECONDS = 30
    for _ in range(3):
        Breaker(release.warehouse.code).record_failure()

    with pytest.raises(dispatch.RetryLater) as later:
        _send(release)

    assert warehouse_stub.received == []
    assert 28 <= later.value.countdown <= 30
    release.refresh_from_db()
    assert release.attempts == 0 and "Circuit" in release.last_error
    assert release.last_attempt_at is not None


def test_repeated_failures_open_the_breaker_for_every_release_of_the_warehouse(
    released, warehouse_stub
):
    _, release = released
    warehouse_stub.answer(*[Reply(503)] * 3)
    for attempt in (1, 2, 3):
        with pytest.raises(dispatch.RetryLater):
            _send(release, attempt=attempt)

    assert Breaker(release.warehouse.code).state()[0] == State.OPEN
    assert len(warehouse_stub.received) == 3


def test_run_in_process_the_task_makes_one_attempt_and_leaves_the_release_to_a_person(
    released, warehouse_stub
):
    _, release = released
    warehouse_stub.answer(Reply(503))

    assert send_release.delay(release.pk).get() == "failed"

    release.refresh_from_db()
    assert release.can_be_sent_again and release.attempts == 1


def test_a_person_sends_a_release_again(
    released, warehouse_stub, coordinator_actor, django_capture_on_commit_callbacks
):
    _, release = released
    warehouse_stub.answer(Reply(503))
    send_release.delay(release.pk)

    with django_capture_on_commit_callbacks(execute=True):
        dispatch.release_resend(release=release, actor=coordinator_actor)
        relay_pending()  # the relay hands release.resent on: the release is sent

    release.refresh_from_db()
    assert release.sent_at is not None and release.delivery_failed_at is None
    assert release.attempts == 2
    event = OutboxEvent.objects.get(event_type="release.resent")
    assert event.payload["actor"] == {"kind": "person", "name": coordinator_actor.name}


def test_only_a_release_that_failed_can_be_sent_again_and_only_by_who_may_release(released, viewer):
    _, release = released
    with pytest.raises(TransitionNotAllowed):
        dispatch.release_resend(release=release, actor=SETUP)
    Release.objects.filter(pk=release.pk).update(delivery_failed_at=timezone.now())
    with pytest.raises(ActionForbidden):
        dispatch.release_resend(release=release, actor=Actor.person(viewer))


def test_releases_whose_task_was_lost_are_found_and_sent_again(released, warehouse_stub, settings):
    _, release = released
    settings.OMS_WAREHOUSE_RESEND_AFTER_MINUTES = 15
    settings.OMS_WAREHOUSE_RETRY_MAX_SECONDS = 60
    assert not dispatch.stalled_releases().exists()  # just made: the relay sends it
    long_ago = timezone.now() - datetime.timedelta(minutes=16)
    Release.objects.filter(pk=release.pk).update(created_at=long_ago)

    assert list(dispatch.stalled_releases()) == [release]
    assert dispatch.resend_stalled() == 1

    release.refresh_from_db()
    assert release.sent_at is not None
    assert not dispatch.stalled_releases().exists()


def test_the_relay_sends_each_release_of_an_order_released_event(
    released, warehouse_stub, django_capture_on_commit_callbacks
):
    _, release = released

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        relay_pending()

    sends = [c for c in callbacks if getattr(c, "func", None) == send_release.delay]
    assert [c.args for c in sends] == [(release.pk,)]
    assert len(warehouse_stub.received) == 1
    assert WarehouseCall.objects.get().release == release
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()
