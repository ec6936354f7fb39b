"""Milestones gate work (OMS_ORDER_GATES). Per order type: the milestone a project must
have reached before an order is created at all ("create"), and the one it must reach
before the order may be allocated and released ("release"). An order created before
its release milestone is gated, with the reason shown; a project update that reaches
the milestone lifts the gate."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from oms import audit, outbox
from oms.actors import Actor
from oms.errors import Problem
from orders.choices import Milestone, OrderStatus
from orders.locks import lock_order
from orders.models import Order, Project

OPEN_STATUSES = [OrderStatus.DRAFT, OrderStatus.APPROVED]


def _gates(order_type: str) -> dict:
    return settings.OMS_ORDER_GATES.get(order_type, {})


def creation_problem(project: Project, order_type: str) -> Problem | None:
    """Why no order of this type may be created for the project yet, if so."""
    milestone = _gates(order_type).get("create")
    if milestone and not project.has_reached(Milestone(milestone)):
        return Problem(
            code="milestone_not_reached",
            field="project_id",
            message=f"Project {project.external_id} has not reached "
            f"{Milestone(milestone).label.lower()}, needed for {order_type} orders.",
        )
    return None


def release_gate(project: Project, order_type: str) -> str:
    """The gate reason for a new order, or "" when it may go ahead."""
    milestone = _gates(order_type).get("release")
    if milestone and not project.has_reached(Milestone(milestone)):
        return f"Waiting for {Milestone(milestone).label.lower()}"
    return ""


def lift_gates(project_ids: Iterable[int], actor: Actor) -> int:
    """Lift the gate of open orders whose project has now reached the milestone."""
    lifted = 0
    gated = (
        Order.objects.filter(project_id__in=list(project_ids), gated=True, status__in=OPEN_STATUSES)
        .select_related("project")
        .order_by("pk")
    )
    for order in gated:
        if release_gate(order.project, order.order_type):
            continue
        with transaction.atomic():
            order = lock_order(order.pk)
            if not order.gated:
                continue
            reason = order.gate_reason
            order.gated, order.gate_reason = False, ""
            order.version += 1
            with audit.acting(actor, reason=f"gate lifted: {reason}"):
                order.save()
            outbox.publish(
                event_type="order.gate_lifted",
                aggregate_type="order",
                aggregate_id=order.pk,
                payload={"number": order.number, "gate": reason},
            )
            lifted += 1
    return lifted
