"""Returns and their resolution."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from oms import audit, correlation
from oms.actors import Actor
from oms.errors import (
    Problem,
    ValidationFailed,
)
from orders.models import Order, OrderLine
from orders.services.common import (
    ReturnSpec,
    apply_transition,
    check_transition,
    lock_lines,
    lock_order,
    refuse_stale,
)
from warehouse.choices import Condition
from warehouse.models import Return, ReturnLine, Warehouse
from warehouse.services import record_movement, return_kind, stock_level_locked


def order_record_return(
    *,
    order: Order,
    warehouse: Warehouse,
    lines: Sequence[ReturnSpec],
    actor: Actor,
    external_id: str | None = None,
) -> Return:
    """Material came back to a warehouse. Good stock goes back on hand, damaged stock
    is set aside. The order becomes PARTIALLY_ or FULLY_RETURNED. A return carrying an
    external id already recorded has no further effect."""
    with transaction.atomic():
        seen, order = order, lock_order(order.pk)
        if external_id:
            existing = Return.objects.filter(external_id=external_id).first()
            if existing:
                return existing
        refuse_stale(seen, order)
        check_transition(order, "return_partially", actor=actor)
        locked = {line.pk: line for line in lock_lines(order)}
        problems = _return_problems(locked, lines)
        if problems:
            raise ValidationFailed("The return does not fit the order.", problems=problems)
        record = Return.objects.create(
            order=order,
            warehouse=warehouse,
            external_id=external_id or None,
            actor_kind=actor.kind,
            actor_name=actor.name,
            correlation_id=correlation.get(),
        )
        with audit.acting(actor, reason="returned"):
            for spec in sorted(lines, key=lambda s: s.line.pk):
                line = locked[spec.line.pk]
                level = stock_level_locked(warehouse=warehouse, item=line.item)
                record_movement(
                    level=level,
                    kind=return_kind(spec.condition),
                    quantity=spec.quantity,
                    actor=actor,
                    order_line=line,
                    reason=spec.reason,
                )
                ReturnLine.objects.create(
                    return_record=record,
                    order_line=line,
                    quantity=spec.quantity,
                    condition=spec.condition,
                    reason=spec.reason,
                )
                line.returned_quantity += spec.quantity
                line.save(update_fields=["returned_quantity"])
        fully = all(line.returned_quantity == line.released_quantity for line in locked.values())
        apply_transition(
            order,
            "return_fully" if fully else "return_partially",
            actor=actor,
            payload={
                "return_id": record.pk,
                "warehouse": warehouse.code,
                "lines": [
                    {
                        "item": locked[s.line.pk].item.code,
                        "quantity": s.quantity,
                        "condition": s.condition,
                        "reason": s.reason,
                    }
                    for s in lines
                ],
            },
        )
        return record


def _return_problems(locked: dict[int, OrderLine], specs: Sequence[ReturnSpec]) -> list[Problem]:
    if not specs:
        return [Problem(code="no_lines", message="A return has at least one line.")]
    problems = []
    wanted: dict[int, int] = {}
    for spec in specs:
        line = locked.get(spec.line.pk)
        if line is None:
            problems.append(
                Problem(code="unknown_line", field=f"line:{spec.line.pk}", message="Not on order.")
            )
            continue
        wanted[line.pk] = wanted.get(line.pk, 0) + spec.quantity
        if spec.quantity <= 0:
            problems.append(
                Problem(
                    code="invalid_quantity",
                    field=line.item.code,
                    message=f"{line.item.code}: quantity must be positive.",
                )
            )
        if spec.condition not in Condition.values:
            problems.append(
                Problem(code="invalid_condition", field=line.item.code, message="Good or damaged.")
            )
        if not spec.reason.strip():
            problems.append(
                Problem(code="required", field=line.item.code, message="Give a return reason.")
            )
    for pk, quantity in wanted.items():
        line = locked[pk]
        returnable = line.released_quantity - line.returned_quantity
        if quantity > returnable:
            problems.append(
                Problem(
                    code="too_many",
                    field=line.item.code,
                    message=f"{line.item.code}: {quantity} returned, only {returnable} shipped "
                    "and not yet returned.",
                )
            )
    return problems


def order_resolve_close(*, order: Order, actor: Actor, note: str = "") -> Order:
    """Accept a return as final: the order is CLOSED again."""
    with transaction.atomic():
        order = lock_order(order)
        return apply_transition(
            order, "resolve_close", actor=actor, payload={"note": note.strip()} if note else None
        )


def order_reopen(*, order: Order, actor: Actor, reason_code: str, reason_text: str) -> Order:
    """After a return, send the order back to DRAFT to change its lines and approve it
    again; what is still needed is each line's outstanding quantity."""
    with transaction.atomic():
        order = lock_order(order)
        return apply_transition(
            order, "reopen", actor=actor, reason_code=reason_code, reason_text=reason_text
        )
