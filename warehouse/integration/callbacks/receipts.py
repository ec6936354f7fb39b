"""Receipts of callbacks: each event id applied once, its first answer kept."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from oms import correlation
from oms.actors import Actor
from oms.errors import Problem, ValidationFailed
from orders.models import Order
from warehouse.integration.choices import CallbackKind
from warehouse.integration.models import Release, WarehouseCallback
from warehouse.ledger.models import Warehouse


class EventIdReused(ValidationFailed):
    code = "event_id_reused"


@dataclass(frozen=True)
class Answer:
    """The answer to a callback; `replayed` when the event had been received before."""

    body: dict
    replayed: bool = False
    status: int = 200


@dataclass
class Effect:
    """What applying a callback did, for its receipt and answer."""

    outcome: str
    order: Order | None = None
    release: Release | None = None
    warehouse: Warehouse | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ShippedLine:
    item: str
    shipped: int


@dataclass(frozen=True)
class ReturnedLine:
    item: str
    quantity: int
    condition: str
    reason: str


def _fingerprint(kind: str, content: dict) -> str:
    canonical = json.dumps([kind, content], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def receive(
    *, event_id: str, kind: CallbackKind, content: dict, actor: Actor, apply: Callable[[], Effect]
) -> Answer:
    """Apply a callback once: the receipt and the effect commit together. A duplicate
    arriving while the first is applied waits for it, then gets its answer."""
    fingerprint = _fingerprint(kind, content)
    with transaction.atomic():
        try:
            with transaction.atomic():
                receipt = WarehouseCallback.objects.create(
                    event_id=event_id,
                    kind=kind,
                    payload=content,
                    fingerprint=fingerprint,
                    outcome="",
                    response_status=200,
                    response_body={},
                    actor_kind=actor.kind,
                    actor_name=actor.name,
                    correlation_id=correlation.get(),
                )
        except IntegrityError:
            return _replay(event_id, fingerprint)
        effect = apply()
        body = {
            "event_id": event_id,
            "outcome": effect.outcome,
            "order": effect.order.number if effect.order else None,
            "order_status": effect.order.status if effect.order else None,
            "release_id": str(effect.release.release_id) if effect.release else None,
            "release_status": effect.release.status if effect.release else None,
            **effect.extra,
        }
        receipt.outcome = effect.outcome[:200]
        receipt.order = effect.order
        receipt.release = effect.release
        receipt.warehouse = effect.warehouse or (effect.release and effect.release.warehouse)
        receipt.response_body = body
        receipt.save(update_fields=["outcome", "order", "release", "warehouse", "response_body"])
        return Answer(body)


def _replay(event_id: str, fingerprint: str) -> Answer:
    first = WarehouseCallback.objects.get(event_id=event_id)
    if first.fingerprint != fingerprint:
        raise EventIdReused(
            f"Event {event_id} was received before with other content; give a new event a new id.",
            problems=[Problem(code="event_id_reused", field="event_id", message="Reused.")],
        )
    return Answer(first.response_body, replayed=True, status=first.response_status)
