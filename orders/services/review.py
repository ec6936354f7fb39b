"""Review: approval, rejection, cancellation and coordinator edits of draft lines."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import Kit
from catalog.selectors import kit_version_effective
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
    Priority,
)
from orders.locks import lock_lines
from orders.models import Order, OrderLine
from orders.services.bill_of_material import BillOfMaterial
from orders.services.common import (
    ExpectedVersion,
    LineEdits,
    LineSpec,
    S,
    apply_transition,
    check_reason,
    check_transition,
    give_back_stock,
    jsonable,
    lock_unchanged,
)
from warehouse.ledger import reservations


def order_approve(*, order: Order, actor: Actor, expected_version: ExpectedVersion = None) -> Order:
    """DRAFT -> APPROVED, when every line is a positive quantity of an active item, the
    project is active and (with four eyes on) the approver did not edit the lines."""
    with transaction.atomic():
        order = lock_unchanged(order, expected_version)
        check_transition(order, "approve", actor=actor)
        lines = lock_lines(order)
        problems = approval_problems(order, lines)
        if problems:
            raise ApprovalBlocked(f"Order {order.number} cannot be approved.", problems=problems)
        if four_eyes_forbid(order, actor):
            raise FourEyesViolation(
                f"You edited the lines, need-by date or priority of {order.number}; another "
                "coordinator must approve it."
            )
        return apply_transition(order, "approve", actor=actor)


def four_eyes_forbid(order: Order, actor: Actor) -> bool:
    """The four-eyes rule (OMS_FOUR_EYES): the person who last edited an order's lines
    may not approve it; another coordinator does. The order page asks it too, to show
    the approve button disabled, with why, before anyone clicks."""
    return bool(
        settings.OMS_FOUR_EYES
        and actor.is_person
        and actor.user is not None
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


def order_reject(
    *,
    order: Order,
    actor: Actor,
    reason_code: str,
    reason_text: str,
    expected_version: ExpectedVersion = None,
) -> Order:
    """Back to DRAFT with a reason; whatever the order held goes back to stock."""
    return _backwards(
        order,
        "reject",
        actor=actor,
        reason_code=reason_code,
        reason_text=reason_text,
        expected_version=expected_version,
    )


def order_cancel(
    *,
    order: Order,
    actor: Actor,
    reason_code: str,
    reason_text: str,
    expected_version: ExpectedVersion = None,
) -> Order:
    """Cancel an order not yet released; whatever it held goes back to stock."""
    return _backwards(
        order,
        "cancel",
        actor=actor,
        reason_code=reason_code,
        reason_text=reason_text,
        expected_version=expected_version,
    )


def _backwards(
    order: Order,
    name: str,
    *,
    actor: Actor,
    reason_code: str,
    reason_text: str,
    expected_version: ExpectedVersion,
) -> Order:
    with transaction.atomic():
        order = lock_unchanged(order, expected_version)
        check_transition(order, name, actor=actor)
        check_reason(reason_code, reason_text)
        lines = lock_lines(order)
        with audit.acting(actor, reason=f"{name}: {reason_text}"):
            released = give_back_stock(lines, actor=actor, reason=f"order {name}ed")
        return apply_transition(
            order,
            name,
            actor=actor,
            reason_code=reason_code,
            reason_text=reason_text,
            payload={"units_unreserved": released},
        )


def order_edit_lines(
    *, order: Order, edits: LineEdits, actor: Actor, expected_version: ExpectedVersion = None
) -> Order:
    """A coordinator changes quantities, adds items and kits and removes lines of a
    DRAFT order. A kit is expanded as a design event expands it (its version in effect
    today, each item times the number of kits): an item already on the order gets the
    kit's quantity added, the others become lines added by the coordinator that name
    the kit (so the next upstream revision keeps them). Refused as a whole if any edit
    is invalid or the order changed meanwhile."""
    with transaction.atomic():
        order = lock_unchanged(order, expected_version)
        _check_editable(order, actor)
        if edits.is_empty():
            return order
        lines = {line.pk: line for line in lock_lines(order)}
        problems = _line_edit_problems(order, lines, edits)
        removed = set(edits.remove)
        quantities = {
            pk: edits.quantities.get(pk, line.quantity)
            for pk, line in lines.items()
            if pk not in removed
        }
        kept = {lines[pk].item_id: pk for pk in quantities}
        new = {item.pk: LineSpec(item, quantity, LineSource.MANUAL) for item, quantity in edits.add}
        bill, kits_added = _expand_kits(edits.kits)
        problems += bill.problems
        for spec in bill.lines.values():
            if spec.item.pk in kept:
                quantities[kept[spec.item.pk]] += spec.quantity
            elif spec.item.pk in new:
                mine = new[spec.item.pk]
                new[spec.item.pk] = replace(mine, quantity=mine.quantity + spec.quantity)
            else:
                new[spec.item.pk] = spec
        problems += _too_large(
            [(lines[pk].item.code, q) for pk, q in quantities.items()]
            + [(spec.item.code, spec.quantity) for spec in new.values()]
        )
        if problems:
            raise ValidationFailed("The changes were not saved.", problems=problems)

        changed = []
        reason = "lines edited"
        if kits_added:
            reason += ", " + ", ".join(
                f"kit {k['kit']} (version {k['version']}) added {k['count']} times"
                for k in kits_added
            )
        with audit.acting(actor, reason=reason):
            for line_id, quantity in quantities.items():
                line = lines[line_id]
                if line.quantity != quantity:
                    changed.append({"item": line.item.code, "quantity": [line.quantity, quantity]})
                    line.quantity = quantity
                    line.save(update_fields=["quantity"])
            reservations.forget_lines(removed)
            for line_id in sorted(removed):
                lines[line_id].delete()
            for spec in new.values():
                spec.line_of(order).save()
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
                "added": [
                    {"item": spec.item.code, "quantity": spec.quantity} for spec in new.values()
                ],
                "removed": [lines[i].item.code for i in sorted(removed)],
                "changed": changed,
                "kits": kits_added,
                "actor": actor.as_payload(),
            },
        )
        return order


def order_edit_header(
    *,
    order: Order,
    actor: Actor,
    reason: str,
    need_by: datetime.date | None = None,
    national_priority: int | None = None,
    expected_version: ExpectedVersion = None,
) -> Order:
    """A coordinator changes the need-by date or the national priority of a DRAFT
    order, saying why. Both decide where the order ranks in allocation, so they count
    as an edit for the four-eyes rule, like a line edit. A need-by date before today
    is refused (an unchanged one is left as it is); nothing changed is no change."""
    with transaction.atomic():
        order = lock_unchanged(order, expected_version)
        _check_editable(order, actor)
        wanted = {"need_by": need_by, "national_priority": national_priority}
        wanted = {name: value for name, value in wanted.items() if value is not None}
        problems = _header_problems(order, wanted, reason)
        if problems:
            raise ValidationFailed("The changes were not saved.", problems=problems)
        changed = {
            name: [jsonable(getattr(order, name)), jsonable(value)]
            for name, value in wanted.items()
            if getattr(order, name) != value
        }
        if not changed:
            return order
        for name in changed:
            setattr(order, name, wanted[name])
        order.version += 1
        order.lines_edited_by = actor.user if actor.is_person else None
        with audit.acting(actor, reason=reason.strip()):
            order.save()
        outbox.publish(
            event_type="order.header_changed",
            aggregate_type="order",
            aggregate_id=order.pk,
            payload={
                "number": order.number,
                "version": order.version,
                "changed": changed,
                "reason": reason.strip(),
                "actor": actor.as_payload(),
            },
        )
        return order


# The longest reason a header change keeps.
MAX_REASON = 2000


def _header_problems(order: Order, wanted: dict, reason: str) -> list[Problem]:
    problems = []
    need_by = wanted.get("need_by")
    today = timezone.localdate()
    if need_by is not None:
        if not isinstance(need_by, datetime.date) or isinstance(need_by, datetime.datetime):
            problems.append(
                Problem(code="invalid", field="need_by", message="Need by: give a date.")
            )
        elif need_by != order.need_by and need_by < today:
            problems.append(
                Problem(
                    code="in_the_past",
                    field="need_by",
                    message=f"Need by: {need_by} is in the past; choose today ({today}) or "
                    "a later date.",
                )
            )
    priority = wanted.get("national_priority")
    if priority is not None and (isinstance(priority, bool) or priority not in Priority.values):
        problems.append(
            Problem(
                code="invalid_choice",
                field="national_priority",
                message="Priority: choose one of "
                + ", ".join(label for _, label in Priority.choices)
                + ".",
            )
        )
    text = (reason or "").strip()
    if not text:
        problems.append(
            Problem(code="required", field="reason", message="Why: say why in a few words.")
        )
    elif len(text) > MAX_REASON:
        problems.append(
            Problem(
                code="too_long",
                field="reason",
                message=f"Why: at most {MAX_REASON:,} characters.",
            )
        )
    return problems


def _check_editable(order: Order, actor: Actor) -> None:
    actor.require("orders.enrich_order", f"edit order {order.number}")
    if order.status != S.DRAFT:
        raise TransitionNotAllowed(
            f"Order {order.number} is {order.get_status_display().lower()}; only draft "
            "orders can be edited."
        )


# The most of one item a line can order (the forms and the API have the same bound).
MAX_LINE_QUANTITY = 1_000_000
# The most of one kit added at once.
MAX_KITS = 10_000


def _expand_kits(kits: Sequence[tuple[Kit, int]]) -> tuple[BillOfMaterial, list[dict]]:
    """The kits' items, each kit in the version in effect today, as lines added by the
    coordinator that name their kit; and, for the record, which kit versions were used."""
    bill = BillOfMaterial(mixed_source=LineSource.MANUAL)
    used = []
    today = timezone.localdate()
    for kit, count in kits:
        field = f"kit:{kit.code}"
        if not isinstance(count, int) or not 0 < count <= MAX_KITS:
            bill.problems.append(
                Problem(
                    code="invalid_quantity",
                    field=field,
                    message=f"Kit {kit.code}: the number of kits must be between 1 and "
                    f"{MAX_KITS:,}.",
                )
            )
            continue
        version = kit_version_effective(kit, today)
        if version is None:
            bill.problems.append(
                Problem(
                    code="unknown_kit",
                    field=field,
                    message=f"Kit {kit.code} has no live version on {today}.",
                )
            )
            continue
        bill.add_kit(kit, version, count, source=LineSource.MANUAL, field=field)
        used.append({"kit": kit.code, "version": version.number, "count": count})
    return bill, used


def _too_large(quantities: Sequence[tuple[str, int]]) -> list[Problem]:
    return [
        Problem(
            code="invalid_quantity",
            field=code,
            message=f"{code}: {quantity:,} is more than one line can order "
            f"({MAX_LINE_QUANTITY:,}).",
        )
        for code, quantity in quantities
        if isinstance(quantity, int) and quantity > MAX_LINE_QUANTITY
    ]


def _line_edit_problems(
    order: Order, lines: Mapping[int, OrderLine], edits: LineEdits
) -> list[Problem]:
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
