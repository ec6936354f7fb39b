"""Creating orders."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import transaction

from oms import audit, counters, outbox
from oms.actors import Actor
from oms.errors import (
    Problem,
    ValidationFailed,
)
from orders.choices import (
    OrderKind,
    RevisionSource,
)
from orders.models import Order, OrderRevision, Project, order_number
from orders.services.common import (
    LineSpec,
    lock_unchanged,
)


def order_create(
    *,
    project: Project,
    order_type: str,
    plan_type: str,
    national_priority: int,
    need_by: datetime.date,
    lines: Sequence[LineSpec],
    actor: Actor,
    kind: OrderKind = OrderKind.ORIGINAL,
    parent: Order | None = None,
    gated: bool = False,
    gate_reason: str = "",
    revision_source: RevisionSource = RevisionSource.UPSTREAM,
    event_id: str = "",
    correlation_id: str = "",
    reason: str = "",
) -> Order:
    """Create an order in DRAFT, revision 1, with its lines. The history records
    `reason`, else the event id, else "created"."""
    problems = []
    if not lines:
        problems.append(Problem(code="no_lines", message="An order needs at least one line."))
    seen = set()
    for spec in lines:
        if spec.quantity <= 0:
            problems.append(
                Problem(
                    code="invalid_quantity",
                    field=spec.item.code,
                    message=f"{spec.item.code}: quantity must be positive.",
                )
            )
        if spec.item.pk in seen:
            problems.append(
                Problem(
                    code="duplicate_item",
                    field=spec.item.code,
                    message=f"{spec.item.code} appears twice; merge the quantities.",
                )
            )
        seen.add(spec.item.pk)
    if problems:
        raise ValidationFailed("The order cannot be created.", problems=problems)

    with transaction.atomic(), audit.acting(actor, reason=reason or event_id or "created"):
        if parent is not None:
            parent = lock_unchanged(parent)
        (value,) = counters.take("order")
        order = Order.objects.create(
            number=order_number(value),
            project=project,
            order_type=order_type,
            kind=kind,
            plan_type=plan_type,
            national_priority=national_priority,
            need_by=need_by,
            gated=gated,
            gate_reason=gate_reason if gated else "",
            parent=parent,
            correlation_id=correlation_id,
        )
        created = [spec.line_of(order) for spec in lines]
        for line in created:
            line.save()
        OrderRevision.objects.create(
            order=order,
            number=1,
            source=revision_source,
            event_id=event_id,
            delta={
                "lines": {
                    "added": [{"item": s.item.code, "quantity": s.quantity} for s in lines],
                    "removed": [],
                    "changed": [],
                }
            },
            actor_kind=actor.kind,
            actor_name=actor.name,
            correlation_id=correlation_id,
        )
        outbox.publish(
            event_type="order.created",
            aggregate_type="order",
            aggregate_id=order.pk,
            payload={
                "number": order.number,
                "project": project.external_id,
                "kind": kind,
                "parent": parent.number if parent else None,
                "lines": [{"item": s.item.code, "quantity": s.quantity} for s in lines],
                "actor": actor.as_payload(),
            },
        )
    return order
