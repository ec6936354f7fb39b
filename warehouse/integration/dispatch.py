"""Sending release requests to warehouse systems.

For each `order.released` event the relay hands on, warehouse.integration.releases makes
the releases and starts one `warehouse.tasks.send_release` task per release. A task
makes one call (through the warehouse's circuit breaker) and records it; a failure a
retry can fix raises RetryLater with the wait (exponential backoff with jitter, at least
as long as the breaker stays open or the warehouse's Retry-After asks). After the last
attempt, or for an answer a retry cannot change, the release is marked as not delivered
and waits for a person to send it again from the order page. A release is sent only
while the warehouse has not acknowledged or answered it, and always with its release id
as the idempotency key, so sending twice is harmless.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from oms import broker, correlation, outbox, relay, retry
from oms.actors import Actor
from oms.errors import TransitionNotAllowed
from oms.models import OutboxEvent
from warehouse.integration import client
from warehouse.integration.breaker import Breaker
from warehouse.integration.choices import CallOutcome, ReleaseStatus
from warehouse.integration.models import Release, WarehouseCall

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger("oms.warehouse")

# Who sends releases and asks about them.
DISPATCH = Actor.system("warehouse-dispatch")

# The tasks that send a release and ask about one (warehouse.tasks).
SEND_TASK = "warehouse.tasks.send_release"
ASK_TASK = "warehouse.tasks.ask_release"


class RetryLater(Exception):
    """Not delivered yet: try again in `countdown` seconds."""

    def __init__(self, countdown: float, reason: str):
        super().__init__(reason)
        self.countdown = countdown


def backoff(attempt: int) -> float:
    """Seconds to wait after the attempt-th failed delivery of a release request."""
    return retry.backoff(
        attempt,
        base=settings.OMS_WAREHOUSE_RETRY_BASE_SECONDS,
        cap=settings.OMS_WAREHOUSE_RETRY_MAX_SECONDS,
    )


# --- The relay's handler ----------------------------------------------------------------


def send_resent_release(event: OutboxEvent) -> None:
    """release.resent: send the release again, or, when the warehouse had taken it and
    never answered, ask the warehouse about it."""
    release = (
        Release.objects.filter(release_id=event.payload["release_id"])
        .values_list("pk", "sent_at")
        .first()
    )
    if release is not None:
        pk, sent_at = release
        relay.enqueue(SEND_TASK if sent_at is None else ASK_TASK, pk)


# --- One attempt ------------------------------------------------------------------------


def release_send(*, release_pk: int, attempt: int, last_try: bool) -> str:
    """Make one attempt to deliver a release request. Returns what came of it
    ("delivered", "failed" or "skipped"); raises RetryLater when a retry is due."""
    release = Release.objects.select_related("order__project", "warehouse").get(pk=release_pk)
    if not release.is_waiting_for_delivery or release.delivery_failed_at:
        return "skipped"
    breaker = Breaker(release.warehouse.code)
    wait = breaker.wait_before_call()
    if wait is not None:
        reason = client.CIRCUIT_OPEN.format(code=release.warehouse.code)
        countdown = None if last_try else max(wait, backoff(attempt))
        _note_wait(release, reason, countdown=countdown)
        if countdown is None:
            return "failed"
        raise RetryLater(countdown, reason)

    result = client.post_release(release)
    if result.ok:
        outcome = CallOutcome.DELIVERED
        breaker.record_success()
    elif result.transient:
        outcome = CallOutcome.FAILED if last_try else CallOutcome.RETRY
        breaker.record_failure()
    else:
        outcome = CallOutcome.FAILED
        if result.status_code is not None:
            breaker.record_success()  # the system is up; it refused this request
    countdown = None
    if outcome == CallOutcome.RETRY:
        countdown = max(backoff(attempt), result.retry_after or 0)
    _record(release, result, outcome, countdown=countdown)
    if countdown is not None:
        raise RetryLater(countdown, result.error)
    return "delivered" if outcome == CallOutcome.DELIVERED else "failed"


def _next_attempt_at(now: datetime.datetime, countdown: float | None) -> datetime.datetime | None:
    return now + datetime.timedelta(seconds=countdown) if countdown is not None else None


def _record(
    release: Release,
    result: client.CallResult,
    outcome: CallOutcome,
    *,
    countdown: float | None,
) -> None:
    now = timezone.now()
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        release.attempts += 1
        release.last_attempt_at = now
        release.last_error = result.error
        release.next_attempt_at = _next_attempt_at(now, countdown)
        fields = ["attempts", "last_attempt_at", "last_error", "next_attempt_at", "updated_at"]
        if outcome == CallOutcome.DELIVERED and release.sent_at is None:
            release.sent_at = now
            fields.append("sent_at")
        if outcome == CallOutcome.FAILED:
            release.delivery_failed_at = now
            fields.append("delivery_failed_at")
        release.save(update_fields=fields)
        WarehouseCall.objects.create(
            release=release,
            warehouse_id=release.warehouse_id,
            attempt=release.attempts,
            method=result.method,
            url=result.url[:500],
            request_summary=result.summary[:200],
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            outcome=outcome,
            error=result.error,
            correlation_id=correlation.get(),
        )
        if outcome == CallOutcome.FAILED:
            _publish_not_delivered(release)


def _note_wait(release: Release, reason: str, *, countdown: float | None) -> None:
    """An attempt that made no call (the breaker is open): tried again after `countdown`
    seconds, or (None) not at all."""
    failed = countdown is None
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        release.last_attempt_at = timezone.now()
        release.last_error = reason
        release.next_attempt_at = _next_attempt_at(release.last_attempt_at, countdown)
        fields = ["last_attempt_at", "last_error", "next_attempt_at", "updated_at"]
        if failed:
            release.delivery_failed_at = release.last_attempt_at
            fields.append("delivery_failed_at")
        release.save(update_fields=fields)
        if failed:
            _publish_not_delivered(release)


def _publish_not_delivered(release: Release) -> None:
    logger.error(
        "Release %s of order %s not delivered to %s after %d calls: %s",
        release.release_id,
        release.order_id,
        release.warehouse_id,
        release.attempts,
        release.last_error,
    )
    publish_release_event(
        release, "release.not_delivered", attempts=release.attempts, error=release.last_error
    )


# --- Sending again ----------------------------------------------------------------------


def release_resend(*, release: Release, actor: Actor) -> Release:
    """A person sends again a release request OMS gave up on: one it could not deliver,
    or one the warehouse took and never answered (then OMS asks again at once, and
    again after each wait, before it leaves the release to a person once more). The
    release.resent event it writes has the relay send it (send_resent_release), so that
    it is sent even if the broker is down when the person asks."""

    actor.require("orders.release_order", "send releases")
    with transaction.atomic():
        release = Release.objects.select_for_update().select_related("warehouse").get(pk=release.pk)
        if not release.can_be_sent_again:
            raise TransitionNotAllowed(
                f"Release {release.release_id} is not waiting to be sent again."
            )
        unanswered = release.is_unanswered
        release.delivery_failed_at = None
        release.last_error = ""
        release.next_attempt_at = None
        fields = ["delivery_failed_at", "last_error", "next_attempt_at", "updated_at"]
        if unanswered:
            release.asks, release.last_asked_at, release.unanswered_at = 0, None, None
            fields += ["asks", "last_asked_at", "unanswered_at"]
        release.save(update_fields=fields)
        outbox.publish(
            event_type="release.resent",
            aggregate_type="order",
            aggregate_id=release.order_id,
            payload={
                "release_id": str(release.release_id),
                "warehouse": release.warehouse.code,
                "actor": actor.as_payload(),
            },
        )
    return release


def stalled_releases() -> QuerySet[Release]:
    """Releases waiting to be sent that no task has tried for a while: their task was
    lost (a broker restarted without its data, say)."""
    minutes = max(
        settings.OMS_WAREHOUSE_RESEND_AFTER_MINUTES,
        2 * settings.OMS_WAREHOUSE_RETRY_MAX_SECONDS / 60,
    )
    cutoff = timezone.now() - datetime.timedelta(minutes=minutes)
    waiting = Release.objects.filter(
        status=ReleaseStatus.REQUESTED, sent_at__isnull=True, delivery_failed_at__isnull=True
    )
    return waiting.filter(last_attempt_at__lt=cutoff) | waiting.filter(
        last_attempt_at__isnull=True, created_at__lt=cutoff
    )


def resend_stalled() -> int:
    pks = list(stalled_releases().order_by("pk").values_list("pk", flat=True))
    for pk in pks:
        broker.send(SEND_TASK, pk)
    if pks:
        logger.warning("Sending %d stalled release requests again", len(pks))
    return len(pks)


# --- Asking again for an answer ---------------------------------------------------------


class WaitingSince(TypedDict):
    """What releases_due_an_ask adds to each release: since when it waits for an
    answer (the last ask, or when the warehouse took it)."""

    waiting_since: datetime.datetime


def releases_due_an_ask() -> QuerySet[WithAnnotations[Release, WaitingSince]]:
    """Releases the warehouse acknowledged and has not answered (accepted, rejected or
    completed) for OMS_WAREHOUSE_ANSWER_AFTER_MINUTES, counted from when it took them
    or from the last time OMS asked, and that OMS has not left to a person yet."""
    cutoff = timezone.now() - datetime.timedelta(
        minutes=settings.OMS_WAREHOUSE_ANSWER_AFTER_MINUTES
    )
    return (
        Release.objects.filter(
            status=ReleaseStatus.REQUESTED, sent_at__isnull=False, unanswered_at__isnull=True
        )
        .annotate(waiting_since=Coalesce("last_asked_at", "sent_at"))
        .filter(waiting_since__lt=cutoff)
    )


def ask_unanswered() -> tuple[int, int]:
    """Ask the warehouse again about each release due an ask (one task each), and leave
    to a person those already asked OMS_WAREHOUSE_MAX_ASKS times. Returns how many were
    asked and how many left to a person."""
    due = list(releases_due_an_ask().order_by("pk").values_list("pk", "asks"))
    asked = [pk for pk, asks in due if asks < settings.OMS_WAREHOUSE_MAX_ASKS]
    for pk in asked:
        broker.send(ASK_TASK, pk)
    left = sum(
        release_leave_unanswered(release_pk=pk)
        for pk, asks in due
        if asks >= settings.OMS_WAREHOUSE_MAX_ASKS
    )
    if asked or left:
        logger.warning(
            "Asking warehouses again about %d unanswered releases; %d left to a person",
            len(asked),
            left,
        )
    return len(asked), left


def release_ask(*, release_pk: int) -> str:
    """Ask the warehouse once more about a release it acknowledged and never answered:
    the same request again, with the release id as its idempotency key; the protocol has
    the warehouse send its answer again. The ask is claimed under the release's lock
    before the call, so the same due ask made twice makes one call. Returns "asked",
    "failed" (the next ask follows after the wait) or "skipped" (not due, or the
    warehouse's circuit is open: the next sweep asks)."""
    unlocked = Release.objects.select_related("warehouse").get(pk=release_pk)
    breaker = Breaker(unlocked.warehouse.code)
    if breaker.wait_before_call() is not None:
        return "skipped"
    with transaction.atomic():
        due = releases_due_an_ask().filter(asks__lt=settings.OMS_WAREHOUSE_MAX_ASKS)
        release = (
            due.select_for_update(of=("self",))
            .select_related("order__project", "warehouse")
            .filter(pk=release_pk)
            .first()
        )
        if release is None:
            return "skipped"
        waited = timezone.now() - release.waiting_since
        release.asks += 1
        release.last_asked_at = timezone.now()
        release.save(update_fields=["asks", "last_asked_at", "updated_at"])
        minutes = int(waited.total_seconds() // 60)
        publish_release_event(
            release,
            "release.asked",
            asks=release.asks,
            max_asks=settings.OMS_WAREHOUSE_MAX_ASKS,
            waited_minutes=minutes,
            reason=f"No answer for {_duration(minutes)}; ask {release.asks} of "
            f"{settings.OMS_WAREHOUSE_MAX_ASKS}.",
        )
    result = client.post_release(release)
    if result.ok:
        breaker.record_success()
    elif result.transient:
        breaker.record_failure()
    elif result.status_code is not None:
        breaker.record_success()
    outcome = CallOutcome.DELIVERED if result.ok else CallOutcome.FAILED
    WarehouseCall.objects.create(
        release=release,
        warehouse_id=release.warehouse_id,
        attempt=release.asks,
        method=result.method,
        url=result.url[:500],
        request_summary=f"ask {release.asks}: {result.summary}"[:200],
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        outcome=outcome,
        error=result.error,
        correlation_id=correlation.get(),
    )
    return "asked" if result.ok else "failed"


def release_leave_unanswered(*, release_pk: int) -> bool:
    """Stop asking about a release the warehouse did not answer after the last ask, and
    leave it to a person (the dashboard lists it). Whether this call did it."""
    with transaction.atomic():
        due = releases_due_an_ask().filter(asks__gte=settings.OMS_WAREHOUSE_MAX_ASKS)
        release = (
            due.select_for_update(of=("self",))
            .select_related("warehouse")
            .filter(pk=release_pk)
            .first()
        )
        if release is None:
            return False
        assert release.sent_at is not None, "a release due an ask has been sent"
        release.unanswered_at = timezone.now()
        release.save(update_fields=["unanswered_at", "updated_at"])
        publish_release_event(
            release,
            "release.unanswered",
            asks=release.asks,
            reason=f"No answer since {release.sent_at:%Y-%m-%d %H:%M} UTC, though asked "
            f"{release.asks} time{'s' if release.asks != 1 else ''}; left to a person.",
        )
    logger.error(
        "Release %s of order %s: warehouse %s has not answered since %s, asked %d times",
        release.release_id,
        release.order_id,
        release.warehouse.code,
        release.sent_at.isoformat(),
        release.asks,
    )
    return True


def publish_release_event(
    release: Release, event_type: str, *, actor: Actor = DISPATCH, **payload: object
) -> None:
    """A release.* event, on the order's stream (its timeline reads them)."""
    outbox.publish(
        event_type=event_type,
        aggregate_type="order",
        aggregate_id=release.order_id,
        payload={
            "release_id": str(release.release_id),
            "warehouse": release.warehouse.code,
            "actor": actor.as_payload(),
            **payload,
        },
    )


def _duration(minutes: int) -> str:
    if minutes < 120:
        return f"{minutes} minutes"
    if minutes < 48 * 60:
        return f"{minutes // 60} hours"
    return f"{minutes // (24 * 60)} days"
