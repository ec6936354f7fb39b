"""Allocation, release and completion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from allocation.engine.writes import OrderAllocation, write_allocations
from allocation.models import Allocation
from allocation.services import issue_allocations, place_in_warehouse
from oms import audit
from oms.actors import Actor
from oms.errors import (
    Problem,
    TransitionNotAllowed,
    ValidationFailed,
)
from orders.models import Order, OrderLine
from orders.services.common import (
    apply_transition,
    check_transition,
    lock_lines,
    lock_order,
)
from warehouse.choices import ReleaseStatus
from warehouse.models import Release, Warehouse


def order_allocate(*, order: Order, warehouse: Warehouse, actor: Actor) -> Order:
    """Reserve all of an APPROVED order's lines in one named warehouse, or nothing.
    Allocation runs are the normal way orders get stock; this serves one order from a
    warehouse someone chose, through the same write as a run."""
    with transaction.atomic():
        order = lock_order(order)
        check_transition(order, "allocate", actor=actor)
        if order.gated:
            raise TransitionNotAllowed(f"Order {order.number} is gated: {order.gate_reason}")
        lines = lock_lines(order)
        placements = place_in_warehouse(lines=lines, warehouse=warehouse)
        write_allocations(
            [OrderAllocation(order.pk, placements, [warehouse.code])],
            actor=actor,
            reason=f"allocate at {warehouse.code}",
        )
        return Order.objects.select_related("project").get(pk=order.pk)


def order_release(*, order: Order, actor: Actor) -> Order:
    """Ask the warehouses holding the order's stock to pick and ship it."""
    with transaction.atomic():
        order = lock_order(order)
        check_transition(order, "release", actor=actor)
        lines = lock_lines(order)
        per_warehouse: dict[int, list[dict]] = {}
        for allocation in order_allocations(lines).select_related(
            "stock_level__warehouse", "order_line__item"
        ):
            per_warehouse.setdefault(allocation.stock_level.warehouse_id, []).append(
                {"item": allocation.order_line.item.code, "quantity": allocation.quantity}
            )
        releases = [
            Release.objects.create(
                order=order, warehouse_id=warehouse_id, lines=per_warehouse[warehouse_id]
            )
            for warehouse_id in sorted(per_warehouse)
        ]
        return apply_transition(
            order,
            "release",
            actor=actor,
            payload={
                "releases": [
                    {
                        "release_id": str(release.release_id),
                        "warehouse": release.warehouse.code,
                        "lines": per_warehouse[release.warehouse_id],
                    }
                    for release in releases
                ]
            },
        )


def order_allocations(lines: Iterable[OrderLine]) -> QuerySet[Allocation]:
    return Allocation.objects.filter(order_line__in=lines, status=Allocation.Status.ACTIVE)


def order_complete(
    *, order: Order, actor: Actor, shipped: Mapping[int, int] | None = None
) -> Order:
    """The warehouse shipped: stock is issued and the order CLOSED. `shipped` gives the
    shipped quantity per line id (default: everything allocated); what was not shipped
    goes back to available stock and stays outstanding on the line."""
    with transaction.atomic():
        order = lock_order(order)
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
            issue_allocations(lines=lines, shipped=shipped, actor=actor)
            for line in lines:
                line.released_quantity += shipped.get(line.pk, 0)
                line.allocated_quantity = 0
                line.save(update_fields=["released_quantity", "allocated_quantity"])
        Release.objects.filter(
            order=order, status__in=[ReleaseStatus.REQUESTED, ReleaseStatus.ACCEPTED]
        ).update(status=ReleaseStatus.COMPLETED, finished_at=timezone.now())
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
