"""Returns and their resolution.

A return waits in the returns queue until a coordinator resolves it: close it as final,
reopen the order to DRAFT (to change its lines and approve it again), or create a
replacement order for the returned quantities. Each resolution records the actor, the
time and the reason on the return, and publishes `return.resolved`. The order is CLOSED
again once none of its returns is waiting; reopening resolves all its waiting returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import transaction
from django.utils import timezone

from oms import audit, correlation, outbox
from oms.actors import Actor
from oms.errors import (
    Problem,
    ReasonRequired,
    TransitionNotAllowed,
    ValidationFailed,
)
from orders.choices import LineSource, OrderKind, ReasonCode, RevisionSource
from orders.locks import lock_lines, lock_order
from orders.models import Order, OrderLine
from orders.services.common import (
    ExpectedVersion,
    LineSpec,
    ReturnSpec,
    S,
    apply_transition,
    check_reason,
    check_transition,
    lock_unchanged,
    refuse_stale,
    transition_permission,
)
from orders.services.creation import order_create
from warehouse.ledger.choices import Condition, ReturnResolution
from warehouse.ledger.models import Return, ReturnLine, Warehouse
from warehouse.ledger.services import record_movement, return_kind, stock_level_locked


def order_record_return(
    *,
    order: Order,
    warehouse: Warehouse,
    lines: Sequence[ReturnSpec],
    actor: Actor,
    external_id: str | None = None,
    expected_version: ExpectedVersion = None,
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
        refuse_stale(seen, order, expected_version)
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


def order_resolve_close(
    *, order: Order, actor: Actor, note: str = "", expected_version: ExpectedVersion = None
) -> Order:
    """Accept the order's returns as final: the order is CLOSED again and every return
    still waiting is recorded as closed."""
    with transaction.atomic():
        order = lock_unchanged(order, expected_version)
        check_transition(order, "resolve_close", actor=actor)
        waiting = _lock_waiting_returns(order)
        _resolve(
            waiting, ReturnResolution.CLOSED, order=order, actor=actor, reason=note or "closed"
        )
        return _close(order, actor=actor, note=note)


def order_reopen(
    *,
    order: Order,
    actor: Actor,
    reason_code: str,
    reason_text: str,
    expected_version: ExpectedVersion = None,
) -> Order:
    """After a return, send the order back to DRAFT to change its lines and approve it
    again; what is still needed is each line's outstanding quantity. Every return still
    waiting is recorded as reopened."""
    with transaction.atomic():
        order = lock_unchanged(order, expected_version)
        check_transition(order, "reopen", actor=actor)
        check_reason(reason_code, reason_text)
        waiting = _lock_waiting_returns(order)
        _resolve(waiting, ReturnResolution.REOPENED, order=order, actor=actor, reason=reason_text)
        return apply_transition(
            order, "reopen", actor=actor, reason_code=reason_code, reason_text=reason_text
        )


# --- Resolving one return (the returns queue) -------------------------------------------


def return_close(
    *,
    return_record: Return,
    actor: Actor,
    reason: str,
    expected_version: ExpectedVersion = None,
) -> Return:
    """Accept one return as final. Once no return of the order is waiting any more, the
    order is CLOSED again. `expected_version` is the version of the return's order."""
    with transaction.atomic():
        order, record = _lock_return(
            return_record, actor=actor, reason=reason, expected_version=expected_version
        )
        _resolve([record], ReturnResolution.CLOSED, order=order, actor=actor, reason=reason)
        _close_when_done(order, actor=actor, note=reason)
        return record


def return_reopen(
    *,
    return_record: Return,
    actor: Actor,
    reason_text: str,
    reason_code: str = ReasonCode.RETURN_REOPENED,
    expected_version: ExpectedVersion = None,
) -> Return:
    """Reopen the returned order to DRAFT, for the coordinator to change its lines and
    approve it again. This resolves every return of the order that is waiting, since
    the reopened order carries all that is outstanding."""
    with transaction.atomic():
        order, record = _lock_return(
            return_record, actor=actor, reason=reason_text, expected_version=expected_version
        )
        check_transition(order, "reopen", actor=actor)
        check_reason(reason_code, reason_text)
        waiting = _lock_waiting_returns(order)
        _resolve(waiting, ReturnResolution.REOPENED, order=order, actor=actor, reason=reason_text)
        apply_transition(
            order,
            "reopen",
            actor=actor,
            reason_code=reason_code,
            reason_text=reason_text,
            payload={"return_id": record.pk},
        )
        record.refresh_from_db()
        return record


def return_replace(
    *,
    return_record: Return,
    actor: Actor,
    reason: str,
    quantities: Mapping[int, int] | None = None,
    expected_version: ExpectedVersion = None,
) -> Order:
    """Create a replacement order (DRAFT, parent = the returned order) for what came
    back in one return, for the coordinator to approve as usual: `quantities` says how
    many of each returned line (by return line id) it carries, between 0 and what came
    back; without it, every returned line in full. It is not gated: its parent was
    released, so the project passed its release milestone. The return is resolved; once
    no return of the order is waiting, the returned order is CLOSED."""
    with transaction.atomic():
        order, record = _lock_return(
            return_record, actor=actor, reason=reason, expected_version=expected_version
        )
        lock_lines(order)
        returned = list(record.lines.select_related("order_line__item").order_by("pk"))
        chosen = _replacement_quantities(record, returned, quantities)
        items = {}
        by_item: dict[int, int] = {}
        for line in returned:
            if chosen[line.pk]:
                item = line.order_line.item
                items[item.pk] = item
                by_item[item.pk] = by_item.get(item.pk, 0) + chosen[line.pk]
        replacement = order_create(
            project=order.project,
            order_type=order.order_type,
            plan_type=order.plan_type,
            national_priority=order.national_priority,
            need_by=order.need_by,
            lines=[
                LineSpec(item=items[pk], quantity=quantity, source=LineSource.MANUAL)
                for pk, quantity in by_item.items()
            ],
            actor=actor,
            kind=OrderKind.REPLACEMENT,
            parent=order,
            revision_source=RevisionSource.MANUAL,
            correlation_id=correlation.get(),
            reason=f"replacement for return #{record.pk} of {order.number}: {reason.strip()}",
        )
        _resolve(
            [record],
            ReturnResolution.REPLACED,
            order=order,
            actor=actor,
            reason=reason,
            replacement=replacement,
        )
        _close_when_done(order, actor=actor, note=reason)
        return replacement


def _replacement_quantities(
    record: Return, returned: list[ReturnLine], quantities: Mapping[int, int] | None
) -> dict[int, int]:
    """How many of each returned line the replacement carries; refused, naming each
    line, when a quantity is not between 0 and what came back, a line is not of this
    return, or nothing at all is chosen."""
    if quantities is None:
        return {line.pk: line.quantity for line in returned}
    problems = [
        Problem(
            code="unknown_line",
            field=f"replace_{pk}",
            message=f"Line {pk} is not a line of return #{record.pk}.",
        )
        for pk in sorted(set(quantities) - {line.pk for line in returned})
    ]
    chosen: dict[int, int] = {}
    for line in returned:
        quantity = quantities.get(line.pk, 0)
        if not isinstance(quantity, int) or not 0 <= quantity <= line.quantity:
            problems.append(
                Problem(
                    code="out_of_range",
                    field=f"replace_{line.pk}",
                    message=f"{line.order_line.item.code}: replace between 0 and the "
                    f"{line.quantity} that came back.",
                )
            )
        chosen[line.pk] = quantity
    if not problems and not any(chosen.values()):
        problems.append(
            Problem(
                code="nothing_chosen",
                field="quantities",
                message="Choose at least one returned line, and how many, for the "
                "replacement order.",
            )
        )
    if problems:
        raise ValidationFailed(" ".join(p.message for p in problems), problems=problems)
    return chosen


def _lock_return(
    return_record: Return, *, actor: Actor, reason: str, expected_version: ExpectedVersion
) -> tuple[Order, Return]:
    """Lock the return's order, then the return; refuse an order at another version than
    the one expected, a return already resolved, an actor without the permission and a
    missing reason."""
    order = lock_unchanged(return_record.order_id, expected_version)
    record = Return.objects.select_for_update().get(pk=return_record.pk)
    actor.require(
        transition_permission("resolve_close"), f"resolve the returns of order {order.number}"
    )
    if record.resolution:
        raise TransitionNotAllowed(
            f"Return #{record.pk} of {order.number} was already resolved "
            f"({record.get_resolution_display().lower()}) by {record.resolved_by_name}."
        )
    if order.status not in (S.PARTIALLY_RETURNED, S.FULLY_RETURNED):
        raise TransitionNotAllowed(
            f"Order {order.number} is {order.get_status_display().lower()}; its returns "
            "cannot be resolved from there."
        )
    if not (reason or "").strip():
        raise ReasonRequired(
            "Say why the return is resolved this way.",
            problems=[Problem(code="required", field="reason", message="Say why in a few words.")],
        )
    return order, record


def _lock_waiting_returns(order: Order) -> list[Return]:
    return list(
        Return.objects.select_for_update().filter(order=order, resolution="").order_by("pk")
    )


def _resolve(
    records: Sequence[Return],
    resolution: ReturnResolution,
    *,
    order: Order,
    actor: Actor,
    reason: str,
    replacement: Order | None = None,
) -> None:
    now = timezone.now()
    for record in records:
        record.resolution = resolution
        record.resolved_at = now
        record.resolved_by = actor.user if actor.is_person else None
        record.resolved_by_name = actor.name
        record.resolution_reason = reason.strip()
        record.replacement_order = replacement
        record.save(
            update_fields=[
                "resolution",
                "resolved_at",
                "resolved_by",
                "resolved_by_name",
                "resolution_reason",
                "replacement_order",
            ]
        )
        outbox.publish(
            event_type="return.resolved",
            aggregate_type="return",
            aggregate_id=record.pk,
            payload={
                "order": order.number,
                "resolution": resolution.value,
                "replacement_order": replacement.number if replacement else None,
                "reason": record.resolution_reason,
                "actor": actor.as_payload(),
            },
        )


def _close_when_done(order: Order, *, actor: Actor, note: str) -> None:
    if not Return.objects.filter(order=order, resolution="").exists():
        _close(order, actor=actor, note=note)


def _close(order: Order, *, actor: Actor, note: str) -> Order:
    return apply_transition(
        order, "resolve_close", actor=actor, payload={"note": note.strip()} if note else None
    )
