"""Review: approval, rejection, cancellation and coordinator edits of draft lines."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from allocation.services import release_allocations
from oms import audit, outbox
from oms.actors import Actor
from oms.errors import (
    ApprovalBlocked,
    FourEyesViolation,
    Problem,
    TransitionNotAllowed,
    ValidationFailed,
)
from orders.choices import (
    LineSource,
)
from orders.models import Order, OrderLine
from orders.services.common import (
    LineEdits,
    S,
    apply_transition,
    authorize,
    check_reason,
    check_transition,
    check_version,
    lock_lines,
    lock_order,
    unlink_from_stock,
)
from warehouse.choices import ReleaseStatus
from warehouse.models import Release


def order_approve(*, order: Order, actor: Actor) -> Order:
    """DRAFT -> APPROVED, when every line is a positive quantity of an active item, the
    project is active and (with four eyes on) the approver did not edit the lines."""
    with transaction.atomic():
        order = lock_order(order)
        check_transition(order, "approve", actor=actor)
        lines = lock_lines(order)
        problems = approval_problems(order, lines)
        if problems:
            raise ApprovalBlocked(f"Order {order.number} cannot be approved.", problems=problems)
        if four_eyes_forbid(order, actor):
            raise FourEyesViolation(
                f"You edited the lines of {order.number}; another coordinator must approve it."
            )
        return apply_transition(order, "approve", actor=actor)


def four_eyes_forbid(order: Order, actor: Actor) -> bool:
    """The four-eyes rule (OMS_FOUR_EYES): the person who last edited an order's lines
    may not approve it; another coordinator does. The order page asks it too, to show
    the approve button disabled, with why, before anyone clicks."""
    return bool(
        settings.OMS_FOUR_EYES
        and actor.is_person
        and order.lines_edited_by_id is not None
        and order.lines_edited_by_id == actor.user.pk
    )


def approval_problems(order: Order, lines: Sequence[OrderLine]) -> list[Problem]:
    problems = []
    if not order.project.is_active:
        problems.append(
            Problem(
                code="project_inactive",
                field="project",
                message=f"Project {order.project.external_id} is "
                f"{order.project.get_status_display().lower()}.",
            )
        )
    if not lines:
        problems.append(Problem(code="no_lines", field="lines", message="The order has no lines."))
    for line in lines:
        if not line.item.is_active:
            successor = line.item.replaced_by
            hint = f"; use {successor.code} instead" if successor else ""
            problems.append(
                Problem(
                    code="item_inactive",
                    field=line.item.code,
                    message=f"{line.item.code} is {line.item.get_lifecycle_display().lower()}"
                    f"{hint}.",
                )
            )
        if line.quantity <= 0:
            problems.append(
                Problem(
                    code="invalid_quantity",
                    field=line.item.code,
                    message=f"{line.item.code}: quantity must be positive.",
                )
            )
    return problems


def order_reject(*, order: Order, actor: Actor, reason_code: str, reason_text: str) -> Order:
    """Back to DRAFT with a reason; whatever the order held goes back to stock."""
    return _backwards(
        order, "reject", actor=actor, reason_code=reason_code, reason_text=reason_text
    )


def order_cancel(*, order: Order, actor: Actor, reason_code: str, reason_text: str) -> Order:
    """Cancel an order not yet released; whatever it held goes back to stock."""
    return _backwards(
        order, "cancel", actor=actor, reason_code=reason_code, reason_text=reason_text
    )


def _backwards(order, name, *, actor, reason_code, reason_text) -> Order:
    with transaction.atomic():
        order = lock_order(order)
        check_transition(order, name, actor=actor)
        check_reason(reason_code, reason_text)
        lines = lock_lines(order)
        with audit.acting(actor, reason=f"{name}: {reason_text}"):
            released = release_allocations(lines=lines, actor=actor, reason=f"order {name}ed")
        Release.objects.filter(
            order=order, status__in=[ReleaseStatus.REQUESTED, ReleaseStatus.ACCEPTED]
        ).update(status=ReleaseStatus.REJECTED, finished_at=timezone.now())
        return apply_transition(
            order,
            name,
            actor=actor,
            reason_code=reason_code,
            reason_text=reason_text,
            payload={"units_unreserved": released},
        )


def order_edit_lines(
    *, order: Order, edits: LineEdits, actor: Actor, expected_version: int | None = None
) -> Order:
    """A coordinator changes quantities, adds items and removes lines of a DRAFT order.
    Refused as a whole if any edit is invalid or the order changed meanwhile."""
    with transaction.atomic():
        order = lock_order(order)
        authorize(actor, "orders.enrich_order", order, "edit")
        if order.status != S.DRAFT:
            raise TransitionNotAllowed(
                f"Order {order.number} is {order.get_status_display().lower()}; only draft "
                "orders can be edited."
            )
        check_version(order, expected_version)
        if edits.is_empty():
            return order
        lines = {line.pk: line for line in lock_lines(order)}
        problems = _line_edit_problems(order, lines, edits)
        if problems:
            raise ValidationFailed("The changes were not saved.", problems=problems)

        removed = set(edits.remove)
        changed = []
        with audit.acting(actor, reason="lines edited"):
            for line_id, quantity in edits.quantities.items():
                line = lines[line_id]
                if line_id not in removed and line.quantity != quantity:
                    changed.append({"item": line.item.code, "quantity": [line.quantity, quantity]})
                    line.quantity = quantity
                    line.save(update_fields=["quantity"])
            unlink_from_stock(removed)
            for line_id in sorted(removed):
                lines[line_id].delete()
            for item, quantity in edits.add:
                OrderLine.objects.create(
                    order=order, item=item, quantity=quantity, source=LineSource.MANUAL
                )
            order.version += 1
            order.lines_edited_by = actor.user if actor.is_person else None
            order.save()
        outbox.publish(
            event_type="order.lines_changed",
            aggregate_type="order",
            aggregate_id=order.pk,
            payload={
                "number": order.number,
                "version": order.version,
                "added": [{"item": item.code, "quantity": q} for item, q in edits.add],
                "removed": [lines[i].item.code for i in sorted(removed)],
                "changed": changed,
                "actor": actor.as_payload(),
            },
        )
        return order


def _line_edit_problems(order, lines, edits: LineEdits) -> list[Problem]:
    problems = []
    for line_id, quantity in edits.quantities.items():
        if line_id not in lines:
            problems.append(
                Problem(code="unknown_line", field=f"line:{line_id}", message="No such line.")
            )
        elif not isinstance(quantity, int) or quantity <= 0:
            problems.append(
                Problem(
                    code="invalid_quantity",
                    field=f"line:{line_id}",
                    message=f"{lines[line_id].item.code}: quantity must be a positive number.",
                )
            )
    for line_id in edits.remove:
        if line_id not in lines:
            problems.append(
                Problem(code="unknown_line", field=f"line:{line_id}", message="No such line.")
            )
        elif lines[line_id].released_quantity:
            line = lines[line_id]
            problems.append(
                Problem(
                    code="line_shipped",
                    field=f"line:{line_id}",
                    message=f"{line.item.code}: {line.released_quantity} were shipped for this "
                    "line; it stays on the order.",
                )
            )
    kept_items = {line.item_id for pk, line in lines.items() if pk not in set(edits.remove)}
    for item, quantity in edits.add:
        if not item.is_active:
            successor = item.replaced_by
            hint = f" Use {successor.code} instead." if successor else ""
            problems.append(
                Problem(
                    code="item_inactive",
                    field=item.code,
                    message=f"{item.code} is {item.get_lifecycle_display().lower()}.{hint}",
                )
            )
        if item.pk in kept_items:
            problems.append(
                Problem(
                    code="duplicate_item",
                    field=item.code,
                    message=f"{item.code} is already on the order; change its quantity instead.",
                )
            )
        kept_items.add(item.pk)
        if not isinstance(quantity, int) or quantity <= 0:
            problems.append(
                Problem(
                    code="invalid_quantity",
                    field=item.code,
                    message=f"{item.code}: quantity must be a positive number.",
                )
            )
    return problems
