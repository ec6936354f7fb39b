"""The outbox relay: pending events in id order to the handlers of their type, marked
delivered with them; at least once; several relays share the work (SKIP LOCKED)."""

import threading

import pytest
from django.db import connection, transaction

from oms import audit, celery_app, correlation, outbox, relay
from oms.models import OutboxEvent
from tests.factories import SETUP

pytestmark = pytest.mark.django_db

handed: list[tuple[str, int]] = []


def record(event):
    handed.append((event.event_type, event.pk))


def record_everything(event):
    handed.append(("*", event.pk))


def record_correlation(event):
    handed.append(("trace", correlation.get()))


refused: list[bool] = []


def refuse_even(event):
    """Refuses events with an even aggregate id until the test says otherwise."""
    if not refused and int(event.aggregate_id) % 2 == 0:
        raise RuntimeError("cannot hand this on now")


def refuse_all(event):
    raise RuntimeError("cannot hand this on")


@pytest.fixture(autouse=True)
def handlers(monkeypatch):
    handed.clear()
    refused.clear()
    monkeypatch.setattr(relay, "HANDLERS", {"thing.made": (f"{__name__}.record",)})
    return relay.HANDLERS


def publish(event_type="thing.made", n=1) -> list[OutboxEvent]:
    with transaction.atomic(), audit.acting(SETUP):
        return [
            outbox.publish(
                event_type=event_type, aggregate_type="thing", aggregate_id=i, payload={}
            )
            for i in range(n)
        ]


def pending() -> int:
    return OutboxEvent.objects.filter(delivered_at__isnull=True).count()


def test_the_relay_hands_pending_events_to_their_handlers_in_id_order_and_marks_them(handlers):
    made = publish(n=3)
    other = publish("thing.ignored")

    assert relay.relay_pending(batch_size=2) == 4

    assert handed == [("thing.made", e.pk) for e in made]
    assert pending() == 0
    assert relay.relay_pending() == 0  # delivered events are not handed on again
    assert other[0].pk not in [pk for _, pk in handed]


def test_handlers_registered_for_all_events_get_every_event(handlers):
    handlers[relay.ALL_EVENTS] = (f"{__name__}.record_everything",)
    made = publish()[0]
    other = publish("thing.ignored")[0]

    relay.relay_pending()

    assert handed == [("thing.made", made.pk), ("*", made.pk), ("*", other.pk)]


def test_an_event_whose_handler_fails_stays_pending_and_does_not_hold_up_the_others(
    handlers,
):
    handlers["thing.made"] = (f"{__name__}.record", f"{__name__}.refuse_even")
    first, second = publish(n=2)  # aggregate ids 0 and 1: the first is refused

    assert relay.relay_pending() == 1

    assert OutboxEvent.objects.get(pk=first.pk).delivered_at is None
    assert OutboxEvent.objects.get(pk=second.pk).delivered_at is not None
    refused.append(False)  # the cause is gone
    assert relay.relay_pending() == 1
    assert pending() == 0
    # the first event's handlers ran again: delivery is at least once
    assert [pk for _, pk in handed] == [first.pk, second.pk, first.pk]


def test_failing_events_filling_whole_batches_do_not_hold_up_those_behind_them(handlers):
    handlers["thing.made"] = (f"{__name__}.refuse_all",)
    publish(n=3)
    behind = publish("thing.ignored")[0]

    assert relay.relay_pending(batch_size=2) == 1

    assert OutboxEvent.objects.get(pk=behind.pk).delivered_at is not None
    assert pending() == 3


def test_handlers_run_under_the_correlation_id_of_their_event(handlers):
    handlers["thing.made"] = (f"{__name__}.record_correlation",)
    with correlation.use("trace-relay"):
        publish()

    relay.relay_pending()

    assert handed == [("trace", "trace-relay")]


def test_a_commit_that_wrote_events_starts_the_relay_once(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.OMS_RELAY_KICK = True
    kicks = []
    monkeypatch.setattr(relay, "kick", lambda: kicks.append(1))

    with django_capture_on_commit_callbacks(execute=True):
        publish(n=3)
    with django_capture_on_commit_callbacks(execute=True):
        publish(n=2)

    assert kicks == [1, 1]


def test_a_rolled_back_transaction_leaves_the_next_commit_its_start_of_the_relay(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.OMS_RELAY_KICK = True
    kicks = []
    monkeypatch.setattr(relay, "kick", lambda: kicks.append(1))

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                publish()
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
        assert kicks == []
        publish()

    assert kicks == [1]


def test_without_a_broker_the_relay_runs_right_after_the_commit(
    settings, django_capture_on_commit_callbacks
):
    settings.OMS_RELAY_KICK = True

    with django_capture_on_commit_callbacks(execute=True):
        made = publish()[0]

    assert handed == [("thing.made", made.pk)]
    assert pending() == 0


def test_through_a_broker_close_commits_share_one_relay_started_after_the_window(monkeypatch):
    from oms.tasks import relay_outbox

    sent = []
    monkeypatch.setattr(relay_outbox, "apply_async", lambda **options: sent.append(options))
    celery_app.conf.task_always_eager = False
    try:
        relay.kick()
        relay.kick()
    finally:
        celery_app.conf.task_always_eager = True

    assert sent == [{"countdown": relay.KICK_WINDOW_SECONDS + 0.1}]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_relay_skips_the_events_another_relay_holds_and_does_not_wait(handlers):
    held, free = publish(n=2)
    locked, release = threading.Event(), threading.Event()

    def other_relay():
        with transaction.atomic():
            OutboxEvent.objects.select_for_update().filter(pk=held.pk).get()
            locked.set()
            release.wait(timeout=30)
        connection.close()

    thread = threading.Thread(target=other_relay)
    thread.start()
    try:
        assert locked.wait(timeout=10)
        assert relay.relay_pending() == 1
        assert handed == [("thing.made", free.pk)]
        assert OutboxEvent.objects.get(pk=held.pk).delivered_at is None
    finally:
        release.set()
        thread.join(timeout=30)

    assert relay.relay_pending() == 1
    assert pending() == 0
