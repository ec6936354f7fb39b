"""Writing domain events to the outbox, inside the caller's transaction. The relay
(oms.relay) hands them on after the commit."""

from django.db import transaction

from oms import correlation, relay
from oms.models import OutboxEvent


def publish(*, event_type: str, aggregate_type: str, aggregate_id, payload: dict) -> OutboxEvent:
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
