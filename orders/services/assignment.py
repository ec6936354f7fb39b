"""Ownership: which coordinator looks after an order.

Assigning, reassigning and unassigning are one use case. Whoever may enrich orders (the
coordinators) may do it, for themselves or for another coordinator. A closed or
cancelled order is finished, so nobody takes it on any more: assigning it is refused,
while unassigning it is allowed, so that a coordinator can clear a finished order from
their own list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from oms import audit, outbox
from oms.actors import Actor
from oms.errors import Problem, TransitionNotAllowed, ValidationFailed
from orders.models import Order
from orders.selectors import is_coordinator, person_name
from orders.services.common import ExpectedVersion, S, lock_unchanged

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Orders nobody takes on any more.
FINISHED = frozenset({S.CLOSED, S.CANCELLED})


def order_assign(
    *,
    order: Order,
    assignee: User | None,
    actor: Actor,
    reason: str = "",
    expected_version: ExpectedVersion = None,
) -> Order:
    """Give the order to a coordinator (`assignee`), or to nobody (None). The order's
    version goes up, the history records the actor with "assigned to <name>" or
    "unassigned" (and the reason, if one is given), and `order.assigned` is published.
    Giving the order to the person who already has it changes nothing."""
    actor.require("orders.enrich_order", f"assign order {order.number}")
    if assignee is not None and not (assignee.is_active and is_coordinator(assignee)):
        problem = Problem(
            code="not_a_coordinator",
            field="assignee",
            message=f"{person_name(assignee)} is not an active coordinator; "
            "orders are assigned to coordinators only.",
        )
        raise ValidationFailed("Orders are assigned to coordinators only.", problems=[problem])
    with transaction.atomic():
        order = lock_unchanged(order, expected_version)
        if assignee is not None and order.status in FINISHED:
            raise TransitionNotAllowed(
                f"Order {order.number} is {order.get_status_display().lower()}; "
                "a finished order is not assigned to anyone."
            )
        previous_id = order.assignee_id
        new_id = assignee.pk if assignee is not None else None
        if previous_id == new_id:
            return order
        previous = order.assignee
        order.assignee = assignee
        order.version += 1
        said = f"assigned to {person_name(assignee)}" if assignee is not None else "unassigned"
        reason = (reason or "").strip()
        with audit.acting(actor, reason=f"{said}: {reason}" if reason else said):
            order.save(update_fields=["assignee", "version", "updated_at"])
        outbox.publish(
            event_type="order.assigned",
            aggregate_type="order",
            aggregate_id=order.pk,
            payload={
                "number": order.number,
                "assignee": assignee.get_username() if assignee is not None else None,
                "previous": previous.get_username() if previous is not None else None,
                "version": order.version,
                "actor": actor.as_payload(),
                "reason": reason,
            },
        )
        return order
