"""Releases: what the warehouses are asked to ship, made and ended as the orders' events
say (the handlers here are registered with the outbox relay in warehouse.apps): the
orders app never reaches up to the warehouse integration.

- `order.released`: one release per warehouse named in the event, each sent to its
  warehouse (warehouse.integration.dispatch). The releases are made once, their ids
  derived from the event's, whether by `release_order` (a coordinator's Release, which
  makes them at once so that the page can name them) or by the relay, which may hand an
  event on twice.
- `order.rejected` and `order.cancelled`: the order's open releases are withdrawn.
- `order.completed`: the order's open releases are completed.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from oms import relay
from oms.actors import Actor
from oms.models import OutboxEvent
from orders import services as order_services
from orders.models import Order
from orders.services.common import ExpectedVersion
from warehouse.integration.choices import ReleaseStatus
from warehouse.integration.dispatch import SEND_TASK, publish_release_event
from warehouse.integration.models import Release
from warehouse.integration.selectors import OPEN_RELEASE_STATUSES
from warehouse.ledger.models import Warehouse

# Release ids are derived from this and the order.released event they answer.
RELEASE_IDS = uuid.UUID("6f1c2b8e-4d3a-5b7c-9e0f-1a2b3c4d5e6f")


def release_id(event: OutboxEvent, warehouse: str) -> uuid.UUID:
    return uuid.uuid5(RELEASE_IDS, f"{event.pk}:{warehouse}")


def release_order(*, order: Order, actor: Actor, expected_version: ExpectedVersion = None) -> Order:
    """Release the order (orders.services.order_release) and make its releases in the
    same transaction. The relay's handler of the event finds them made and sends them."""
    with transaction.atomic():
        order = order_services.order_release(
            order=order, actor=actor, expected_version=expected_version
        )
        make_releases(
            OutboxEvent.objects.filter(
                event_type="order.released", aggregate_type="order", aggregate_id=str(order.pk)
            ).latest("pk")
        )
    return order


def order_released(event: OutboxEvent) -> None:
    """Make the event's releases (unless made) and send each to its warehouse."""
    for release in make_releases(event):
        relay.enqueue(SEND_TASK, release.pk)


def make_releases(event: OutboxEvent) -> list[Release]:
    """The releases an order.released event asks for, made unless they were."""
    parts = event.payload.get("releases", [])
    releases = []
    warehouses = Warehouse.objects.in_bulk([part["warehouse"] for part in parts], field_name="code")
    for part in parts:
        release, made = Release.objects.get_or_create(
            release_id=release_id(event, part["warehouse"]),
            defaults={
                "order_id": int(event.aggregate_id),
                "warehouse": warehouses[part["warehouse"]],
                "lines": part["lines"],
            },
        )
        if made:
            publish_release_event(release, "release.requested", lines=release.lines)
        releases.append(release)
    return releases


def order_withdrawn(event: OutboxEvent) -> None:
    """The order went back to draft or was cancelled: what the warehouses were asked to
    ship is withdrawn."""
    finish_open_releases(int(event.aggregate_id), ReleaseStatus.REJECTED)


def order_completed(event: OutboxEvent) -> None:
    finish_open_releases(int(event.aggregate_id), ReleaseStatus.COMPLETED)


def finish_open_releases(order_id: int, status: ReleaseStatus) -> None:
    """End the order's releases still open (requested or accepted) with this status.
    Also called by the warehouse's callbacks, in their own transaction, so that their
    answer shows the releases ended."""
    now = timezone.now()
    Release.objects.filter(order_id=order_id, status__in=OPEN_RELEASE_STATUSES).update(
        status=status, finished_at=now, updated_at=now
    )
