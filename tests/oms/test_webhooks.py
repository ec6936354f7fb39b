"""Webhooks to a real HTTP receiver: signed deliveries, retries with backoff for what a
retry can fix, failure after the maximum age, and retrying by hand."""

import datetime
import hashlib
import hmac
import json
import random
import socket

import pytest
from django.utils import timezone

from oms import relay, webhooks
from oms.actors import Actor, ActorKind
from oms.errors import ActionForbidden, ValidationFailed
from oms.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from orders import services
from tests.factories import SETUP, make_order
from tests.webhook_receiver import Receiver, Reply

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def deliver_now(django_capture_on_commit_callbacks):
    """Run what commits queue (Celery runs tasks in-process in tests)."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def subscribe(url, *event_types, name=None, active=True):
    subscription, _secret = webhooks.subscription_create(
        name=name or f"erp-{WebhookSubscription.objects.count()}",
        url=url,
        event_types=event_types or ["*"],
        actor=SETUP,
        active=active,
    )
    return subscription


def an_event(event_type="order.approved"):
    return OutboxEvent.objects.create(
        event_type=event_type,
        aggregate_type="order",
        aggregate_id="1",
        payload={"number": "MO-1"},
        correlation_id="trace-42",
    )


def make_due(delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def fresh(delivery):
    return WebhookDelivery.objects.get(pk=delivery.pk)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Fan-out ----------------------------------------------------------------------------


def test_fan_out_makes_one_delivery_per_matching_active_subscription_once(deliver_now):
    everything = subscribe("http://127.0.0.1:9/a", "*")
    orders = subscribe("http://127.0.0.1:9/b", "order.*")
    stock = subscribe("http://127.0.0.1:9/c", "stock.below_minimum")
    subscribe("http://127.0.0.1:9/d", "*", active=False)
    approved, below = an_event("order.approved"), an_event("stock.below_minimum")

    assert webhooks.fan_out([approved, below]) == 4
    assert webhooks.fan_out([approved, below]) == 0

    assert sorted(WebhookDelivery.objects.values_list("subscription_id", "event_id")) == sorted(
        [
            (everything.pk, approved.pk),
            (everything.pk, below.pk),
            (orders.pk, approved.pk),
            (stock.pk, below.pk),
        ]
    )


def test_fan_out_queues_each_new_delivery_after_commit(django_capture_on_commit_callbacks):
    subscribe("http://127.0.0.1:9/a")

    with django_capture_on_commit_callbacks() as queued:
        webhooks.fan_out([an_event()])
    with django_capture_on_commit_callbacks() as again:
        webhooks.fan_out(OutboxEvent.objects.all())

    assert len(queued) == 1 and again == []


def test_an_event_made_by_a_service_reaches_the_receiver_through_the_relay(receiver, deliver_now):
    subscribe(receiver.url, "order.approved")
    order = make_order()
    services.order_approve(order=order, actor=SETUP)

    deliver_now(relay.relay_pending)

    (request,) = receiver.received
    body = json.loads(request.body)
    assert body["type"] == "order.approved"
    assert body["aggregate"] == {"type": "order", "id": str(order.pk)}
    assert body["payload"]["number"] == order.number and body["payload"]["to"] == "approved"
    assert WebhookDelivery.objects.get().status == Status.DELIVERED


# --- One delivery -----------------------------------------------------------------------


def test_a_delivery_is_signed_with_the_subscription_secret(receiver, deliver_now):
    _subscription, secret = webhooks.subscription_create(
        name="erp", url=receiver.url, event_types=["*"], actor=SETUP
    )
    event = an_event()

    deliver_now(webhooks.fan_out, [event])

    (request,) = receiver.received
    headers = request.headers
    timestamp = headers["X-OMS-Timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert headers["X-OMS-Signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - timezone.now().timestamp()) < 60
    assert headers["X-OMS-Event-ID"] == str(event.pk)
    assert headers["X-Correlation-ID"] == "trace-42"
    assert headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert (body["id"], body["type"], body["payload"]) == (
        event.pk,
        "order.approved",
        {"number": "MO-1"},
    )
    assert body["correlation_id"] == "trace-42" and body["created_at"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.DELIVERED,
        1,
        200,
    )
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_a_signature_made_with_another_secret_does_not_verify():
    body = webhooks.event_body(an_event())
    assert webhooks.sign("whsec_right-secret-value", "1700000000", body) != webhooks.sign(
        "whsec_wrong-secret-value", "1700000000", body
    )


def test_server_errors_are_retried_with_backoff_until_delivered(receiver, deliver_now, settings):
    settings.OMS_WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver.script(503, 502, 200)
    subscribe(receiver.url)
    deliver_now(webhooks.fan_out, [an_event()])
    delivery = WebhookDelivery.objects.get()

    first = fresh(delivery)
    wait = (first.next_attempt_at - timezone.now()).total_seconds()
    assert (first.status, first.attempts, first.last_status_code) == (Status.PENDING, 1, 503)
    assert 14 <= wait <= 30  # half the base, plus up to half as jitter
    assert "HTTP 503" in first.last_error

    assert deliver_now(webhooks.deliver, delivery_id=delivery.pk) == "skipped"  # not due yet
    make_due(delivery)
    assert deliver_now(webhooks.deliver, delivery_id=delivery.pk) == "retrying"
    second = fresh(delivery)
    assert 29 <= (second.next_attempt_at - timezone.now()).total_seconds() <= 60

    make_due(delivery)
    assert deliver_now(webhooks.deliver, delivery_id=delivery.pk) == "delivered"
    assert fresh(delivery).attempts == 3
    assert len({r.headers["X-OMS-Event-ID"] for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) == 1
    attempts = list(delivery.history.order_by("history_id").values_list("status", "attempts"))
    assert attempts == [("pending", 1), ("pending", 2), ("delivered", 3)]


def test_a_refused_connection_is_retried(deliver_now):
    subscribe(f"http://127.0.0.1:{free_port()}/hooks")

    deliver_now(webhooks.fan_out, [an_event()])

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 1)
    assert delivery.last_error.startswith("ConnectionError")
    assert delivery.last_status_code is None


def test_a_receiver_that_does_not_answer_in_time_is_retried(receiver, deliver_now, settings):
    settings.OMS_WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.script(Reply(delay=1.0))
    subscribe(receiver.url)

    deliver_now(webhooks.fan_out, [an_event()])

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING
    assert delivery.last_error.startswith("Timed out")


def test_a_receiver_that_hangs_up_is_retried(receiver, deliver_now):
    receiver.script(Reply(hang_up=True))
    subscribe(receiver.url)

    deliver_now(webhooks.fan_out, [an_event()])

    assert WebhookDelivery.objects.get().status == Status.PENDING


def test_too_many_requests_waits_at_least_as_long_as_retry_after(receiver, deliver_now):
    receiver.script(Reply(status=429, headers=(("Retry-After", "600"),)))
    subscribe(receiver.url)

    deliver_now(webhooks.fan_out, [an_event()])

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.last_status_code == 429
    assert (delivery.next_attempt_at - timezone.now()).total_seconds() > 590


@pytest.mark.parametrize("code", [400, 401, 404, 410, 301])
def test_an_answer_a_retry_cannot_fix_fails_at_once(receiver, deliver_now, code):
    receiver.script(code)
    subscribe(receiver.url)

    deliver_now(webhooks.fan_out, [an_event()])

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (Status.FAILED, code)
    assert delivery.next_attempt_at is None and len(receiver.received) == 1


def test_after_the_maximum_age_a_failing_delivery_is_marked_failed(receiver, deliver_now, settings):
    settings.OMS_WEBHOOK_MAX_AGE_HOURS = 24
    receiver.script(503, 503)
    subscribe(receiver.url)
    deliver_now(webhooks.fan_out, [an_event()])
    delivery = WebhookDelivery.objects.get()
    assert fresh(delivery).status == Status.PENDING

    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        retrying_since=timezone.now() - datetime.timedelta(hours=23, minutes=59, seconds=50)
    )
    make_due(delivery)
    assert deliver_now(webhooks.deliver, delivery_id=delivery.pk) == "failed"

    failed = fresh(delivery)
    assert (failed.status, failed.attempts, failed.last_status_code) == (Status.FAILED, 2, 503)
    assert failed.next_attempt_at is None
    assert delivery.history.first().history_change_reason == (
        "attempt 2 failed, gave up after the maximum age"
    )


def test_a_delivery_overdue_beyond_the_maximum_age_fails_without_an_attempt(
    receiver, deliver_now, acting_system
):
    subscribe(receiver.url, active=False)
    subscription = WebhookSubscription.objects.get()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(active=True)
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event=an_event(),
        next_attempt_at=timezone.now() - datetime.timedelta(days=2),
        retrying_since=timezone.now() - datetime.timedelta(days=2),
    )

    assert deliver_now(webhooks.deliver, delivery_id=delivery.pk) == "failed"
    assert receiver.received == []
    assert "Not delivered within 24 hours" in fresh(delivery).last_error


def test_a_delivery_is_sent_once_however_often_its_task_runs(receiver, deliver_now):
    subscribe(receiver.url)
    deliver_now(webhooks.fan_out, [an_event()])
    delivery = WebhookDelivery.objects.get()

    for _ in range(3):
        assert deliver_now(webhooks.deliver, delivery_id=delivery.pk) == "skipped"

    assert len(receiver.received) == 1


def test_a_claimed_delivery_is_not_claimed_again_while_its_sender_may_still_run(receiver):
    subscribe(receiver.url)
    webhooks.fan_out([an_event()])  # queued on commit, which never comes here
    delivery = WebhookDelivery.objects.get()
    # A worker claimed it and died before it recorded anything.
    claimed = WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() + datetime.timedelta(seconds=50), attempts=1
    )
    assert claimed == 1

    assert webhooks.deliver(delivery_id=delivery.pk) == "skipped"
    assert webhooks.send_due() == 0  # the lease has not run out
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert webhooks.send_due() == 1  # the sweeper hands it to a new task
    assert receiver.received == []


def test_the_sweeper_queues_overdue_deliveries_of_active_subscriptions_only(
    django_capture_on_commit_callbacks, acting_system
):
    active = subscribe("http://127.0.0.1:9/a")
    inactive = subscribe("http://127.0.0.1:9/b", active=False)
    long_ago = timezone.now() - datetime.timedelta(minutes=10)
    soon = timezone.now() + datetime.timedelta(minutes=1)
    for subscription, due in [(active, long_ago), (active, soon), (inactive, long_ago)]:
        WebhookDelivery.objects.create(
            subscription=subscription, event=an_event(), next_attempt_at=due, retrying_since=due
        )

    with django_capture_on_commit_callbacks() as queued:
        assert webhooks.send_due() == 1
    assert len(queued) == 1


def test_backoff_doubles_with_jitter_up_to_the_cap(settings):
    settings.OMS_WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.OMS_WEBHOOK_RETRY_MAX_SECONDS = 300
    rng = random.Random(1)
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (5, 160), (6, 300), (20, 300)]:
        waits = [webhooks.backoff_seconds(attempt, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 40  # jittered, not all the same


# --- Retrying by hand -------------------------------------------------------------------


def test_a_failed_delivery_retried_by_hand_is_sent_again(receiver, deliver_now, coordinator):
    receiver.script(410, 200)
    subscribe(receiver.url)
    deliver_now(webhooks.fan_out, [an_event()])
    delivery = WebhookDelivery.objects.get()
    assert fresh(delivery).status == Status.FAILED

    (result,) = deliver_now(
        webhooks.webhook_retry, delivery_ids=[delivery.pk], actor=Actor.person(coordinator)
    )

    assert result.ok
    delivered = fresh(delivery)
    assert (delivered.status, delivered.attempts) == (Status.DELIVERED, 1)
    retried = delivery.history.filter(history_change_reason="retried by hand").get()
    assert (retried.actor_kind, retried.history_user) == (ActorKind.PERSON, coordinator)
    assert len(receiver.received) == 2


def test_a_delivered_delivery_is_not_sent_again_and_the_retry_says_so(receiver, deliver_now):
    subscribe(receiver.url)
    deliver_now(webhooks.fan_out, [an_event()])
    delivery = WebhookDelivery.objects.get()

    results = webhooks.webhook_retry(delivery_ids=[delivery.pk, 999999], actor=SETUP)

    delivered_at = timezone.localtime(delivery.delivered_at).strftime("%Y-%m-%d %H:%M")
    assert [(r.ok, r.nothing_to_do, r.message) for r in results] == [
        (False, True, f"Already delivered at {delivered_at}: not sent again."),
        (False, False, "No such delivery."),
    ]
    assert len(receiver.received) == 1


def test_retrying_needs_the_permission(viewer):
    with pytest.raises(ActionForbidden):
        webhooks.webhook_retry(delivery_ids=[1], actor=Actor.person(viewer))


# --- Subscriptions ----------------------------------------------------------------------


def test_a_subscription_gets_a_strong_secret_unless_one_is_given():
    made, secret = webhooks.subscription_create(
        name="erp", url="https://erp.example.com/hooks", event_types=["order.*"], actor=SETUP
    )
    given, same = webhooks.subscription_create(
        name="bi",
        url="https://bi.example.com/hooks",
        event_types=["*"],
        actor=SETUP,
        secret="a-shared-secret-of-the-receiver",
    )

    assert secret.startswith("whsec_") and len(secret) > 40 and made.secret == secret
    assert same == "a-shared-secret-of-the-receiver" == given.secret
    assert "secret" not in {f.name for f in made.history.model._meta.fields}


def test_event_types_must_look_like_event_types():
    assert webhooks.clean_event_types([" order.* ", "stock.below_minimum", "order.*"]) == [
        "order.*",
        "stock.below_minimum",
    ]
    with pytest.raises(ValidationFailed):
        webhooks.clean_event_types(["order approved!"])
    with pytest.raises(ValidationFailed):
        webhooks.clean_event_types([" "])


def test_a_rotated_secret_signs_the_next_attempt(receiver, deliver_now):
    receiver.script(503, 200)
    subscription = subscribe(receiver.url)
    deliver_now(webhooks.fan_out, [an_event()])
    secret = webhooks.subscription_rotate_secret(subscription=subscription, actor=SETUP)
    delivery = WebhookDelivery.objects.get()
    make_due(delivery)

    deliver_now(webhooks.deliver, delivery_id=delivery.pk)

    request = receiver.received[-1]
    assert request.headers["X-OMS-Signature"] == webhooks.sign(
        secret, request.headers["X-OMS-Timestamp"], request.body
    )
