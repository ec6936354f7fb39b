"""Allocation, release and completion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet

from oms import audit, outbox
from oms.actors import Actor
from oms.errors import (
    Problem,
    TransitionNotAllowed,
    ValidationFailed,
)
from orders import writes
from orders.locks import lock_lines
from orders.models import Order, OrderLine
from orders.services.common import (
    ExpectedVersion,
    apply_transition,
    check_transition,
    lock_unchanged,
    transition_edge,
    transition_event,
    transition_permission,
)
from warehouse.ledger import reservations
from warehouse.ledger.models import Allocation, Warehouse
from warehouse.ledger.reservations import Placement


def order_allocate(
    *,
    order: Order,
    warehouse: Warehouse,
    actor: Actor,
    expected_version: ExpectedVersion = None,
) -> Order:
    """Reserve all of an APPROVED order's lines in one named warehouse, or nothing.
    Allocation runs are the normal way orders get stock; this serves one order from a
    warehouse someone chose, through the same transition as a run (orders_allocate)."""
    with transaction.atomic():
        order = lock_unchanged(order, expected_version)
        check_transition(order, "allocate", actor=actor)
        if order.gated:
            raise TransitionNotAllowed(f"Order {order.number} is gated: {order.gate_reason}")
        lines = lock_lines(order)
        placements = reservations.place_in_warehouse(lines=lines, warehouse=warehouse)
        orders_allocate(
            [OrderAllocation(order.pk, placements, [warehouse.code])],
            actor=actor,
            reason=f"allocate at {warehouse.code}",
        )
        return Order.objects.select_related("project").get(pk=order.pk)


@dataclass(frozen=True)
class OrderAllocation:
    """What one order takes: its placements, and the warehouses (codes) it takes them
    from, in the order stock was taken."""

    order_id: int
    placements: Sequence[Placement]
    warehouses: list[str]


def orders_allocate(
    allocations: Sequence[OrderAllocation],
    *,
    actor: Actor,
    reason: str,
    payload: dict | None = None,
) -> None:
    """The allocate transition of many orders at once (an allocation run's chunk), set
    based: a fixed number of statements however many orders. Each order gets what
    order_allocate gives one: its placements reserved in the ledger, its lines'
    allocated quantity raised (with history), its move from APPROVED to ALLOCATED (a
    new version, with history) and its `order.allocated` event, whose payload is made
    by the same code as every transition's (plus `payload`). The caller holds the
    orders locked (lock_orders) and the stock levels after them, and has checked under
    those locks that every order is APPROVED, not gated and has the stock; an order
    that left APPROVED meanwhile makes the whole write fail (StaleVersion)."""
    if not allocations:
        return
    actor.require(transition_permission("allocate"), "allocate orders")
    source, target = transition_edge("allocate")
    with audit.acting(actor, reason=reason):
        reservations.reserve(
            ((a.order_id, a.placements) for a in allocations), actor=actor, reason=reason
        )
        allocated: dict[int, int] = {}
        for a in allocations:
            for p in a.placements:
                allocated[p.line_id] = allocated.get(p.line_id, 0) + p.quantity
        writes.add_to_lines(
            "allocated_quantity",
            allocated,
            {a.order_id: f"allocated at {', '.join(a.warehouses)}" for a in allocations},
        )
        moved = writes.move_orders(
            [a.order_id for a in allocations], source=source, target=target, reason=reason
        )
    outbox.publish_many(
        [
            transition_event(
                order_id=a.order_id,
                number=moved[a.order_id][0],
                version=moved[a.order_id][1],
                name="allocate",
                source=source,
                target=target,
                actor=actor,
                payload={"warehouses": a.warehouses, **(payload or {})},
            )
            for a in allocations
        ]
    )


def order_release(*, order: Order, actor: Actor, expected_version: ExpectedVersion = None) -> Order:
    """Ask the warehouses holding the order's stock to pick and ship it. The order is
    RELEASED; its `order.released` event names what each warehouse is to ship, and the
    warehouse integration makes a release of each part and sends it."""
    with transaction.atomic():
        order = lock_unchanged(order, expected_version)
        check_transition(order, "release", actor=actor)
        lines = lock_lines(order)
        per_warehouse: dict[str, list[dict]] = {}
        for allocation in order_allocations(lines).select_related(
            "stock_level__warehouse", "order_line__item"
        ):
            per_warehouse.setdefault(allocation.stock_level.warehouse.code, []).append(
                {"item": allocation.order_line.item.code, "quantity": allocation.quantity}
            )
        return apply_transition(
            order,
            "release",
            actor=actor,
            payload={
                "releases": [
                    {"warehouse": code, "lines": per_warehouse[code]}
                    for code in sorted(per_warehouse)
                ]
            },
        )


def order_allocations(lines: Iterable[OrderLine]) -> QuerySet[Allocation]:
    return Allocation.objects.filter(order_line__in=lines, status=Allocation.Status.ACTIVE)


def order_complete(
    *,
    order: Order,
    actor: Actor,
    shipped: Mapping[int, int] | None = None,
    expected_version: ExpectedVersion = None,
) -> Order:
    """The warehouse shipped: stock is issued and the order CLOSED. `shipped` gives the
    shipped quantity per line id (default: everything allocated); what was not shipped
    goes back to available stock and stays outstanding on the line."""
    with transaction.atomic():
        order = lock_unchanged(order, expected_version)
        check_transition(order, "complete", actor=actor)
        lines = lock_lines(order)
        shipped = (
            dict(shipped)
            if shipped is not None
            else {line.pk: line.allocated_quantity for line in lines}
        )
        by_pk = {line.pk: line for line in lines}
        problems = [
            Problem(code="unknown_line", field=f"line:{pk}", message="No such line.")
            for pk in shipped
            if pk not in by_pk
        ] + [
            Problem(
                code="invalid_quantity",
                field=by_pk[pk].item.code,
                message=f"{by_pk[pk].item.code}: shipped {qty}, allocated "
                f"{by_pk[pk].allocated_quantity}.",
            )
            for pk, qty in shipped.items()
            if pk in by_pk and not 0 <= qty <= by_pk[pk].allocated_quantity
        ]
        if problems:
            raise ValidationFailed(
                "The shipped quantities do not fit the order.", problems=problems
            )
        with audit.acting(actor, reason="shipped"):
            reservations.issue_allocations(lines=lines, shipped=shipped, actor=actor)
            for line in lines:
                line.released_quantity += shipped.get(line.pk, 0)
                line.allocated_quantity = 0
                line.save(update_fields=["released_quantity", "allocated_quantity"])
        short = [
            {"item": line.item.code, "outstanding": line.outstanding_quantity}
            for line in lines
            if line.outstanding_quantity
        ]
        return apply_transition(
            order,
            "complete",
            actor=actor,
            payload={
                "shipped": [
                    {"item": by_pk[pk].item.code, "quantity": qty} for pk, qty in shipped.items()
                ],
                "short": short,
            },
        )
