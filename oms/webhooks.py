"""Webhooks: domain events POSTed to subscribers, signed, retried, never lost.

`fan_out(events)` makes one delivery per matching active subscription and event (a
second call for the same event makes nothing) and queues each after commit. A delivery
is claimed with a conditional UPDATE before it is sent, so two tasks for the same
delivery never send it at once; it is sent outside any transaction, and its outcome is
recorded afterwards:

- 2xx: delivered;
- connection error, timeout, 5xx, 408, 429: tried again after an exponential backoff
  with jitter (a Retry-After header is honoured), until OMS_WEBHOOK_MAX_AGE_HOURS have
  passed since the first attempt; then failed;
- anything else (3xx, other 4xx, a URL that cannot be used): failed at once.

Delivery is at least once: a receiver that answered but whose answer was lost gets the
event again, so receivers dedupe by the event id (`X-OMS-Event-ID`). Failed and pending
deliveries are sent again at once by hand from the back office (`webhook_retry`);
oms.webhook_states says where each one is in words.

Body: {"id", "type", "aggregate": {"type", "id"}, "payload", "created_at",
"correlation_id"}. Headers: X-OMS-Event-ID, X-OMS-Event-Type, X-OMS-Delivery-ID,
X-OMS-Timestamp (Unix seconds), X-OMS-Signature: sha256=<hex HMAC-SHA256 of
"<timestamp>.<body>" with the subscription's secret>, X-Correlation-ID.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from oms import audit, broker, correlation, retry
from oms.actors import Actor
from oms.errors import Problem, ValidationFailed
from oms.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from oms.webhook_states import delivery_state

logger = logging.getLogger("oms.webhooks")

SENDER = Actor.system("webhooks")
USER_AGENT = "OMS-Webhooks/1.0"
# The task that sends one delivery (oms.tasks).
DELIVER_TASK = "oms.tasks.deliver_webhook"
SIGNATURE_HEADER = "X-OMS-Signature"
TIMESTAMP_HEADER = "X-OMS-Timestamp"
# Statuses a retry can fix, besides every 5xx.
TRANSIENT_STATUSES = {408, 429}
# A claimed delivery is not claimed again before this many seconds after its timeout,
# so a worker that dies mid-delivery hands it to the sweeper, not to a second sender.
LEASE_MARGIN_SECONDS = 30
# The sweeper sends deliveries due at least this long ago: their own task is late or lost.
SWEEP_GRACE_SECONDS = 120
SWEEP_BATCH = 1000

Status = WebhookDelivery.Status


# --- Subscriptions ----------------------------------------------------------------------

MIN_SECRET_LENGTH = 16


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def clean_event_types(event_types: Iterable[str]) -> list[str]:
    """Event types, families ("order.*") or "*": stripped, deduplicated, in order."""
    cleaned = []
    problems = []
    for value in event_types:
        value = value.strip()
        if not value or value in cleaned:
            continue
        head = value[:-2] if value.endswith(".*") else value
        if value != "*" and not all(part.replace("_", "").isalnum() for part in head.split(".")):
            problems.append(
                Problem(
                    code="invalid_event_type",
                    field="event_types",
                    message=f"{value!r} is not an event type such as order.approved, "
                    'a family such as order.*, or "*".',
                )
            )
        cleaned.append(value)
    if not cleaned and not problems:
        problems.append(
            Problem(code="required", field="event_types", message="Give at least one event type.")
        )
    if problems:
        raise ValidationFailed("The event types are not valid.", problems=problems)
    return cleaned


def subscription_create(
    *,
    name: str,
    url: str,
    event_types: Iterable[str],
    actor: Actor,
    secret: str = "",
    active: bool = True,
) -> tuple[WebhookSubscription, str]:
    """A new subscription; returns it with its secret (made when not given), which the
    receiver needs to verify signatures and which is not shown again."""
    actor.require("oms.add_webhooksubscription", "add webhook subscriptions")
    secret = clean_secret(secret)
    with transaction.atomic(), audit.acting(actor, reason="webhook subscription created"):
        subscription = WebhookSubscription.objects.create(
            name=name,
            url=url,
            event_types=clean_event_types(event_types),
            secret=secret,
            active=active,
        )
    return subscription, secret


def subscription_rotate_secret(
    *, subscription: WebhookSubscription, actor: Actor, secret: str = ""
) -> str:
    """A new secret for a subscription (the one given, or a new one), used from the next
    attempt on; returned once."""
    actor.require("oms.change_webhooksubscription", "change webhook subscriptions")
    secret = clean_secret(secret)
    with transaction.atomic(), audit.acting(actor, reason="webhook secret changed"):
        subscription.secret = secret
        subscription.save(update_fields=["secret", "updated_at"])
    return secret


def clean_secret(secret: str) -> str:
    """The secret given (stripped), or a new one when none is; refuses one too short."""
    secret = secret.strip() or new_secret()
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValidationFailed(f"A webhook secret has at least {MIN_SECRET_LENGTH} characters.")
    return secret


# --- Fan-out ----------------------------------------------------------------------------


def relay_event(event: OutboxEvent) -> None:
    """The outbox relay's handler for every event (oms.relay.HANDLERS)."""
    fan_out([event])


def fan_out(events: Iterable[OutboxEvent]) -> int:
    """One pending delivery per event and matching active subscription, each queued
    after commit. Safe to call again for the same events: what exists is not made or
    queued again. Returns the number of deliveries made."""
    events = list(events)
    subscriptions = list(WebhookSubscription.objects.filter(active=True))
    wanted = {
        (subscription.pk, event.pk)
        for event in events
        for subscription in subscriptions
        if subscription.matches(event.event_type)
    }
    if not wanted:
        return 0
    now = timezone.now()
    with transaction.atomic():
        existing = set(
            WebhookDelivery.objects.filter(
                event_id__in={event_id for _, event_id in wanted},
                subscription_id__in={subscription_id for subscription_id, _ in wanted},
            ).values_list("subscription_id", "event_id")
        )
        missing = sorted(wanted - existing, key=lambda pair: (pair[1], pair[0]))
        if not missing:
            return 0
        # ignore_conflicts: a relay running twice at once makes each delivery once.
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    subscription_id=subscription_id,
                    event_id=event_id,
                    next_attempt_at=now,
                    retrying_since=now,
                )
                for subscription_id, event_id in missing
            ],
            ignore_conflicts=True,
        )
        made = WebhookDelivery.objects.filter(
            event_id__in={event_id for _, event_id in missing},
            subscription_id__in={subscription_id for subscription_id, _ in missing},
            status=Status.PENDING,
            attempts=0,
        ).values_list("pk", "subscription_id", "event_id")
        missing_pairs = set(missing)
        for pk in sorted(pk for pk, s, e in made if (s, e) in missing_pairs):
            _queue(pk)
    return len(missing)


def _queue(delivery_id: int, countdown: float = 0) -> None:
    broker.send_after_commit(DELIVER_TASK, delivery_id, countdown=countdown or None)


# --- Delivering -------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    transient: bool = False
    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None


def deliver(*, delivery_id: int) -> str:
    """Try one delivery if it is pending and due, and record the outcome. Returns what
    happened: delivered, retrying, failed or skipped (not due, taken, or finished)."""
    now = timezone.now()
    lease = now + datetime.timedelta(
        seconds=settings.OMS_WEBHOOK_TIMEOUT_SECONDS * 2 + LEASE_MARGIN_SECONDS
    )
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status=Status.PENDING,
        next_attempt_at__lte=now,
        subscription__active=True,
    ).update(next_attempt_at=lease, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("subscription", "event").get(pk=delivery_id)
    if now > _deadline(delivery):
        return _record(
            delivery_id,
            Outcome(
                delivered=False,
                transient=True,
                error=f"Not delivered within {settings.OMS_WEBHOOK_MAX_AGE_HOURS:g} hours "
                "(no attempt could be made in time).",
            ),
        )
    with correlation.use(delivery.event.correlation_id or None):
        outcome = _post(delivery)
    if not outcome.delivered:
        logger.warning(
            "Webhook %s to %s failed: %s",
            delivery.event_id,
            delivery.subscription.name,
            outcome.error,
        )
    return _record(delivery_id, outcome)


def event_body(event: OutboxEvent) -> bytes:
    """The JSON body of an event, the same bytes for every attempt."""
    data = {
        "id": event.pk,
        "type": event.event_type,
        "aggregate": {"type": event.aggregate_type, "id": event.aggregate_id},
        "payload": event.payload,
        "created_at": event.created_at,
        "correlation_id": event.correlation_id,
    }
    return json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-OMS-Signature value: HMAC-SHA256 of "<timestamp>.<body>"."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def _post(delivery: WebhookDelivery) -> Outcome:
    event, subscription = delivery.event, delivery.subscription
    body = event_body(event)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-OMS-Event-ID": str(event.pk),
        "X-OMS-Event-Type": event.event_type,
        "X-OMS-Delivery-ID": str(delivery.pk),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
        correlation.HEADER: event.correlation_id or correlation.get(),
    }
    timeout = settings.OMS_WEBHOOK_TIMEOUT_SECONDS
    try:
        response = requests.post(
            subscription.url,
            data=body,
            headers=headers,
            timeout=(timeout, timeout),
            allow_redirects=False,
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        return Outcome(delivered=False, transient=True, error=_describe(exc))
    except requests.RequestException as exc:
        return Outcome(delivered=False, error=_describe(exc))
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(delivered=True, status_code=code)
    transient = code >= 500 or code in TRANSIENT_STATUSES
    return Outcome(
        delivered=False,
        transient=transient,
        status_code=code,
        error=f"HTTP {code} {response.reason}: {response.text[:300]}".strip(),
        retry_after=_retry_after(response.headers.get("Retry-After")) if transient else None,
    )


def _describe(exc: Exception) -> str:
    kind = "Timed out" if isinstance(exc, requests.Timeout) else type(exc).__name__
    return f"{kind}: {exc}"[:500]


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def backoff_seconds(attempt: int, *, rng: random.Random | None = None) -> float:
    """The wait after the given failed delivery attempt (1-based)."""
    return retry.backoff(
        attempt,
        base=settings.OMS_WEBHOOK_RETRY_BASE_SECONDS,
        cap=settings.OMS_WEBHOOK_RETRY_MAX_SECONDS,
        rng=rng,
    )


def _deadline(delivery: WebhookDelivery) -> datetime.datetime:
    return delivery.retrying_since + datetime.timedelta(hours=settings.OMS_WEBHOOK_MAX_AGE_HOURS)


def _record(delivery_id: int, outcome: Outcome) -> str:
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status != Status.PENDING:
            return "skipped"
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        if outcome.delivered:
            delivery.status, delivery.delivered_at = Status.DELIVERED, now
            delivery.next_attempt_at = None
            reason, result = f"delivered (attempt {delivery.attempts})", "delivered"
        else:
            wait = max(backoff_seconds(delivery.attempts), outcome.retry_after or 0)
            wait = min(wait, settings.OMS_WEBHOOK_RETRY_MAX_SECONDS)
            next_at = now + datetime.timedelta(seconds=wait)
            if outcome.transient and next_at <= _deadline(delivery):
                delivery.next_attempt_at = next_at
                reason, result = f"attempt {delivery.attempts} failed, will retry", "retrying"
                _queue(delivery.pk, countdown=wait)
            else:
                delivery.status, delivery.next_attempt_at = Status.FAILED, None
                why = "gave up after the maximum age" if outcome.transient else "not retryable"
                reason, result = f"attempt {delivery.attempts} failed, {why}", "failed"
        with audit.acting(SENDER, reason=reason):
            delivery.save()
    return result


# --- Sweeping and retrying by hand ------------------------------------------------------


def send_due() -> int:
    """Queue pending deliveries that are overdue: their task was lost, their worker died
    mid-delivery, or their subscription was switched on again. Returns how many."""
    cutoff = timezone.now() - datetime.timedelta(seconds=SWEEP_GRACE_SECONDS)
    due = list(
        WebhookDelivery.objects.filter(
            status=Status.PENDING, next_attempt_at__lte=cutoff, subscription__active=True
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in due:
        _queue(pk)
    return len(due)


@dataclass(frozen=True)
class RetryResult:
    delivery_id: int
    ok: bool  # it was sent again, or queued to be
    message: str
    nothing_to_do: bool = False  # already delivered: left as it is
    failed_again: bool = False  # sent again at once, and not delivered

    @property
    def level(self) -> str:
        """How a page reports it: info, success, warning or error."""
        if self.nothing_to_do:
            return "info"
        if not self.ok:
            return "error"
        return "warning" if self.failed_again else "success"


def webhook_retry(*, delivery_ids: Sequence[int], actor: Actor) -> list[RetryResult]:
    """Send deliveries again now: a failed one with a fresh retry window, a pending one
    (waiting to retry, or overdue) at once, without waiting for its next attempt. Each
    is queued after commit. A delivered one is left as it is, and the result says so.
    The results say what came of each: delivered, failed again (and when the next
    attempt is), or queued (with a broker, the worker sends it shortly)."""
    actor.require("oms.retry_webhookdelivery", "retry webhook deliveries")
    now = timezone.now()
    results = {}
    queued: dict[int, int] = {}  # id -> attempts before
    with transaction.atomic():
        deliveries = {
            d.pk: d
            for d in WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription")
            .filter(pk__in=set(delivery_ids))
            .order_by("pk")
        }
        with audit.acting(actor, reason="retried by hand"):
            for pk, delivery in deliveries.items():
                if delivery.status == Status.DELIVERED:
                    when = timezone.localtime(delivery.delivered_at).strftime("%Y-%m-%d %H:%M")
                    results[pk] = RetryResult(
                        pk, False, f"Already delivered at {when}: not sent again.", True
                    )
                    continue
                if delivery.status == Status.FAILED:
                    delivery.attempts = 0
                delivery.status = Status.PENDING
                delivery.next_attempt_at = now
                delivery.retrying_since = now
                delivery.save()
                _queue(pk)
                queued[pk] = delivery.attempts
                note = "" if delivery.subscription.active else " (subscription is inactive)"
                results[pk] = RetryResult(pk, True, f"Queued for delivery{note}.")
    results.update(_retried(queued))
    return [
        results.get(pk) or RetryResult(pk, False, "No such delivery.")
        for pk in dict.fromkeys(delivery_ids)
    ]


def _retried(queued: dict[int, int]) -> dict[int, RetryResult]:
    """What came of the deliveries queued by hand, for those already tried (tasks run
    in-process, or a fast worker): delivered, or failed again and why."""
    if not queued:
        return {}
    tried = WebhookDelivery.objects.select_related("subscription").filter(pk__in=queued)
    results = {}
    for delivery in tried:
        if delivery.status == Status.PENDING and delivery.attempts <= queued[delivery.pk]:
            continue  # not tried yet: queued
        state = delivery_state(delivery)
        if delivery.status == Status.DELIVERED:
            results[delivery.pk] = RetryResult(delivery.pk, True, "Sent again and delivered.")
        else:
            results[delivery.pk] = RetryResult(
                delivery.pk, True, f"Sent again, not delivered. {state.summary}", failed_again=True
            )
    return results
