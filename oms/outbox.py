"""Writing domain events to the outbox, inside the caller's transaction. The relay
(oms.relay) hands them on after the commit."""

from django.db import transaction
from django.utils import timezone

from oms import correlation, relay
from oms.bulk import insert_values
from oms.models import OutboxEvent


def publish(
    *, event_type: str, aggregate_type: str, aggregate_id: int | str, payload: dict
) -> OutboxEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox events are written inside the transaction of their change")
    event = OutboxEvent.objects.create(
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        payload=payload,
        correlation_id=correlation.get(),
    )
    relay.kick_after_commit()
    return event


def publish_many(events: list[dict]) -> None:
    """Many events at once, for changes written in bulk: each {event_type,
    aggregate_type, aggregate_id, payload}, with its own correlation_id or the current
    one."""
    if not events:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox events are written inside the transaction of their change")
    now, current = timezone.now(), correlation.get()
    insert_values(
        OutboxEvent,
        [
            {
                "event_type": event["event_type"],
                "aggregate_type": event["aggregate_type"],
                "aggregate_id": str(event["aggregate_id"]),
                "payload": event["payload"],
                "correlation_id": event.get("correlation_id", current),
                "created_at": now,
                "delivered_at": None,
            }
            for event in events
        ],
    )
    relay.kick_after_commit()
