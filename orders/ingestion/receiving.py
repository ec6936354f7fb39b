"""Receiving design events (stored first, never lost), and correcting dead letters."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import serializers

from oms import audit, broker, untrusted
from oms.actors import Actor
from oms.bulk import gc_paused, insert_rows
from oms.errors import Problem, ValidationFailed
from orders.ingestion.design import ENGINEERING
from orders.ingestion.rules import process
from orders.models import DesignEvent

logger = logging.getLogger("oms.ingestion")


@dataclass(frozen=True)
class Received:
    event: DesignEvent | None
    duplicate: bool
    problems: tuple[Problem, ...] = ()
    # For an event refused before it was stored: its id as sent, when it has one.
    event_id: str | None = None


# The task that processes a batch of received events (orders.tasks).
PROCESS_TASK = "orders.tasks.process_design_events"
NO_ID = Problem(code="required", field="event_id", message="Every event has an event_id.")


def _refused(payload: object) -> Received | None:
    """An event that cannot even be stored as sent (it holds text or a number that no
    database column or JSON document can keep) is refused by itself, naming the field."""
    found = untrusted.first_refusal(payload)
    if found is None:
        return None
    event_id = payload.get("event_id") if isinstance(payload, dict) else None
    problem = Problem(code=found.code, field=found.path, message=found.message)
    reported = untrusted.printable(event_id[:100]) if isinstance(event_id, str) else None
    return Received(None, False, (problem,), event_id=reported)


def _event_id(payload: object) -> str | None:
    event_id = payload.get("event_id") if isinstance(payload, dict) else None
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 100:
        return None
    return event_id


@gc_paused()
def receive_many(payloads: list, *, received_from: str) -> list[Received]:
    """Store many events at once (a few queries), in the order given; each answer as
    receive() gives it. If another writer stores one of them at the same moment, they
    are stored one by one instead."""
    results: dict[int, Received] = {}  # by position
    positions: dict[str, list[int]] = {}
    for index, payload in enumerate(payloads):
        event_id = _event_id(payload)
        if refused := _refused(payload):
            results[index] = refused
        elif event_id is None:
            results[index] = Received(None, False, (NO_ID,))
        else:
            positions.setdefault(event_id, []).append(index)
    stored = DesignEvent.objects.in_bulk(list(positions), field_name="event_id")
    new = []
    for event_id, (first, *again) in positions.items():
        if event_id in stored:
            for index in (first, *again):
                results[index] = Received(stored[event_id], True)
            continue
        payload = payloads[first]
        event = DesignEvent(
            event_id=event_id, payload=payload, received_from=received_from, **_envelope(payload)
        )
        new.append(event)
        results[first] = Received(event, False)
        for index in again:
            results[index] = Received(event, True)
    try:
        with transaction.atomic(), audit.acting(ENGINEERING, reason="design events received"):
            insert_rows(DesignEvent, new)
            audit.bulk_history(
                DesignEvent,
                new,
                history_type="+",
                reasons=[f"design event {e.event_id}" for e in new],
                correlation_ids=[e.event_id[:64] for e in new],
            )
    except IntegrityError:
        return [receive(payload, received_from=received_from) for payload in payloads]
    return [results[index] for index in range(len(payloads))]


def receive(payload: Any, *, received_from: str) -> Received:
    """Store an event as sent, before anything else. An event id already stored is a
    duplicate and changes nothing. Without an event id there is nothing to store it by."""
    if refused := _refused(payload):
        return refused
    event_id = _event_id(payload)
    if event_id is None:
        return Received(None, False, (NO_ID,))
    existing = DesignEvent.objects.filter(event_id=event_id).first()
    if existing:
        return Received(existing, True)
    fields = _envelope(payload)
    try:
        with transaction.atomic(), audit.acting(ENGINEERING, reason=f"design event {event_id}"):
            event = DesignEvent.objects.create(
                event_id=event_id, payload=payload, received_from=received_from, **fields
            )
    except IntegrityError:  # the same event, received at the same moment elsewhere
        return Received(DesignEvent.objects.get(event_id=event_id), True)
    return Received(event, False)


OCCURRED_AT = serializers.DateTimeField()


def _envelope(payload: dict) -> dict:
    """Searchable copies of a few fields, when they have the right shape."""
    try:
        occurred_at = OCCURRED_AT.run_validation(payload.get("occurred_at"))
    except (serializers.ValidationError, TypeError):
        occurred_at = None
    sent = {k: payload.get(k) for k in ("type", "project_id", "order_type")}
    text = {k: v if isinstance(v, str) else "" for k, v in sent.items()}
    return {
        "event_type": text["type"][:32],
        "project_external_id": text["project_id"][:40],
        "order_type": text["order_type"][:20],
        "occurred_at": occurred_at,
    }


def correct(*, event: DesignEvent, payload: dict, actor: Actor) -> DesignEvent:
    """A coordinator fixes an invalid event; the original stays as sent. The event is
    then processed again."""
    actor.require("orders.enrich_order", "correct design events")
    with (
        transaction.atomic(),
        audit.acting(actor, reason=f"design event {event.event_id} corrected"),
    ):
        event = DesignEvent.objects.select_for_update().get(pk=event.pk)
        if event.status != DesignEvent.Status.INVALID:
            raise ValidationFailed(
                f"Event {event.event_id} is {event.get_status_display().lower()}; only invalid "
                "events are corrected."
            )
        if found := untrusted.first_refusal(payload):
            raise ValidationFailed(
                "The corrected payload holds a value that cannot be stored.",
                problems=[Problem(code=found.code, field=found.path, message=found.message)],
            )
        if not isinstance(payload, dict):
            raise ValidationFailed(
                "The corrected event is a JSON object, { … }, as the box first shows it.",
                problems=[Problem(code="invalid", message="An event is a JSON object.")],
            )
        if payload.get("event_id") != event.event_id:
            raise ValidationFailed(
                f'The corrected event keeps its id: "event_id": "{event.event_id}".',
                problems=[
                    Problem(
                        code="event_id",
                        field="event_id",
                        message=f'Keep "event_id": "{event.event_id}".',
                    )
                ],
            )
        event.corrected_payload = payload
        event.status = DesignEvent.Status.RECEIVED
        event.outcome = ""
        event.problems = []
        event.save()
    return event


def reprocess(*, event: DesignEvent, actor: Actor) -> DesignEvent:
    """Process an invalid event again as it is (say, once its project has reached the
    milestone or its item is in the catalog). A processed event is left alone."""
    actor.require("orders.enrich_order", "reprocess design events")
    with transaction.atomic(), audit.acting(actor, reason=f"design event {event.event_id} retried"):
        event = DesignEvent.objects.select_for_update().get(pk=event.pk)
        if event.status == DesignEvent.Status.INVALID:
            event.status = DesignEvent.Status.RECEIVED
            event.save()
    return process(event)


def waiting() -> QuerySet[DesignEvent]:
    """Design events received and still not processed OMS_DESIGN_EVENT_SWEEP_SECONDS
    later: their task never arrived (the broker was down, or lost it)."""
    cutoff = timezone.now() - datetime.timedelta(seconds=settings.OMS_DESIGN_EVENT_SWEEP_SECONDS)
    return DesignEvent.objects.filter(status=DesignEvent.Status.RECEIVED, received_at__lt=cutoff)


def send_waiting(*, batch_size: int = 500) -> int:
    """Send the waiting design events to be processed, oldest first, in batches (one
    task each). Processing is safe to run twice: a batch skips what is processed."""
    pks = list(waiting().order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), batch_size):
        broker.send(PROCESS_TASK, pks[start : start + batch_size], "waiting")
    if pks:
        logger.warning("Sending %d design events that waited to be processed", len(pks))
    return len(pks)


def schedule(events: Iterable[DesignEvent], *, source: str) -> None:
    """Process the events as one batch in a Celery task once the current transaction
    commits (in process, at once, where tasks run in-process). If the broker cannot take
    the task, the events wait as received for process_waiting_design_events."""
    pks = [event.pk for event in events]
    if pks:
        broker.send_after_commit(PROCESS_TASK, pks, source)
