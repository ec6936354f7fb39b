"""Order use cases: one function per use case, each one transaction.

Every state change follows the same steps: lock the order, then its lines, then stock
rows by primary key; check the actor's permission and that the transition may happen;
call the @transition method; save with the actor and reason in the history; write the
outbox event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from allocation.models import Allocation
from allocation.services import issue_allocations, release_allocations, reserve_from_warehouse
from catalog.models import Item, Kit
from oms import audit, correlation, counters, outbox
from oms.actors import Actor
from oms.errors import (
    ActionForbidden,
    ApprovalBlocked,
    FourEyesViolation,
    Problem,
    ReasonRequired,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from orders.choices import (
    LineSource,
    OrderKind,
    OrderStatus,
    ReasonCode,
    RevisionSource,
)
from orders.models import REASONED_TRANSITIONS, Order, OrderLine, OrderRevision, Project
from warehouse.choices import Condition, ReleaseStatus
from warehouse.models import Release, Return, ReturnLine, Warehouse
from warehouse.services import record_movement, return_kind, stock_level_locked

S = OrderStatus

# The event each transition writes to the outbox.
TRANSITION_EVENTS = {
    "approve": "order.approved",
    "reject": "order.rejected",
    "cancel": "order.cancelled",
    "allocate": "order.allocated",
    "release": "order.released",
    "complete": "order.completed",
    "return_partially": "order.returned",
    "return_fully": "order.returned",
    "resolve_close": "order.return_resolved",
    "reopen": "order.reopened",
}


@dataclass(frozen=True)
class LineSpec:
    item: Item
    quantity: int
    source: LineSource = LineSource.UPSTREAM
    kit: Kit | None = None
    replaces_item: Item | None = None


@dataclass(frozen=True)
class ReturnSpec:
    line: OrderLine
    quantity: int
    condition: Condition
    reason: str


@dataclass(frozen=True)
class LineEdits:
    """A coordinator's edits to a draft order's lines, saved together."""

    quantities: Mapping[int, int] = field(default_factory=dict)  # line id -> new quantity
    add: Sequence[tuple[Item, int]] = ()
    remove: Iterable[int] = ()  # line ids

    def is_empty(self) -> bool:
        return not (self.quantities or self.add or self.remove)


# --- Helpers shared by every use case ---------------------------------------------------


def transition_permission(name: str) -> str:
    meta = getattr(Order, name)._django_fsm
    return next(iter(meta.transitions.values())).permission


def _lock_order(order: Order | int) -> Order:
    """Lock the order's row and return it fresh. A caller that passes the order as it
    loaded it acts on that status (see _refuse_stale)."""
    pk = order if isinstance(order, int) else order.pk
    locked = Order.objects.select_for_update(of=("self",)).select_related("project").get(pk=pk)
    if isinstance(order, Order):
        _refuse_stale(order, locked)
    return locked


def _refuse_stale(seen: Order, locked: Order) -> None:
    """If someone moved the order since the caller loaded it, the caller decided on
    stale data: refuse, as django-fsm's concurrent transitions do, instead of applying
    the decision to a status the caller never saw."""
    if seen.status != locked.status:
        raise StaleVersion(
            f"Order {locked.number} changed since you loaded it: it was "
            f"{seen.get_status_display().lower()}, it is now "
            f"{locked.get_status_display().lower()}. Reload to see the latest data."
        )


def _lock_lines(order: Order) -> list[OrderLine]:
    return list(order.lines.select_for_update(of=("self",)).select_related("item").order_by("pk"))


def _authorize(actor: Actor, perm: str, order: Order, verb: str) -> None:
    if not actor.has_perm(perm):
        raise ActionForbidden(f"{actor} may not {verb} order {order.number}.")


def _check_reason(reason_code: str, reason_text: str) -> None:
    problems = []
    if reason_code not in ReasonCode.values:
        problems.append(
            Problem(code="required", field="reason_code", message="Choose a reason code.")
        )
    if not (reason_text or "").strip():
        problems.append(
            Problem(code="required", field="reason_text", message="Say why in a few words.")
        )
    if problems:
        raise ReasonRequired("This step needs a reason code and a text.", problems=problems)


def _check_version(order: Order, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != order.version:
        raise StaleVersion(
            f"Order {order.number} changed since you loaded it (version {expected_version}, "
            f"now {order.version}). Reload to see the latest data."
        )


def _actor_payload(actor: Actor) -> dict:
    return {"kind": actor.kind.value, "name": actor.name}


def _check_transition(order: Order, name: str, *, actor: Actor) -> None:
    """Refuse a transition the actor may not make or the order's status does not allow."""
    verb = name.replace("_", " ")
    _authorize(actor, transition_permission(name), order, verb)
    if not can_proceed(getattr(order, name)):
        raise TransitionNotAllowed(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            f"it cannot {verb} from there."
        )


def _apply_transition(
    order: Order,
    name: str,
    *,
    actor: Actor,
    reason_code: str = "",
    reason_text: str = "",
    payload: dict | None = None,
) -> Order:
    """Check, apply and record one transition on a locked order."""
    _check_transition(order, name, actor=actor)
    if name in REASONED_TRANSITIONS:
        _check_reason(reason_code, reason_text)
    source = order.status
    getattr(order, name)()
    verb = name.replace("_", " ")
    now = timezone.now()
    order.status_changed_at = now
    order.version += 1
    if name in REASONED_TRANSITIONS:
        order.reason_code, order.reason_text = reason_code, reason_text.strip()
    elif name == "approve":
        order.reason_code, order.reason_text = "", ""
        order.approved_at = now
    change_reason = (
        f"{ReasonCode(reason_code).label}: {reason_text.strip()}" if reason_code else verb
    )
    with audit.acting(actor, reason=change_reason):
        order.save()
    outbox.publish(
        event_type=TRANSITION_EVENTS[name],
        aggregate_type="order",
        aggregate_id=order.pk,
        payload={
            "number": order.number,
            "from": source,
            "to": order.status,
            "version": order.version,
            "actor": _actor_payload(actor),
            "reason": {"code": reason_code, "text": reason_text.strip()} if reason_code else None,
            **(payload or {}),
        },
    )
    return order


def _save_lines(lines: Iterable[OrderLine], actor: Actor, reason: str, fields: list[str]) -> None:
    with audit.acting(actor, reason=reason):
        for line in lines:
            line.save(update_fields=fields)


# --- Creation ---------------------------------------------------------------------------


def order_create(
    *,
    project: Project,
    order_type: str,
    plan_type: str,
    national_priority: int,
    need_by,
    lines: Sequence[LineSpec],
    actor: Actor,
    kind: OrderKind = OrderKind.ORIGINAL,
    parent: Order | None = None,
    gated: bool = False,
    gate_reason: str = "",
    revision_source: RevisionSource = RevisionSource.UPSTREAM,
    event_id: str = "",
    correlation_id: str = "",
) -> Order:
    """Create an order in DRAFT, revision 1, with its lines."""
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

    with transaction.atomic(), audit.acting(actor, reason=event_id or "created"):
        if parent is not None:
            parent = _lock_order(parent)
        (value,) = counters.take("order")
        order = Order.objects.create(
            number=f"MO-{value:07d}",
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
        created = [
            OrderLine(
                order=order,
                item=spec.item,
                quantity=spec.quantity,
                source=spec.source,
                kit=spec.kit,
                replaces_item=spec.replaces_item,
            )
            for spec in lines
        ]
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
                "actor": _actor_payload(actor),
            },
        )
    return order


# --- Review -----------------------------------------------------------------------------


def order_approve(*, order: Order, actor: Actor) -> Order:
    """DRAFT -> APPROVED, when every line is a positive quantity of an active item, the
    project is active and (with four eyes on) the approver did not edit the lines."""
    with transaction.atomic():
        order = _lock_order(order)
        _check_transition(order, "approve", actor=actor)
        lines = _lock_lines(order)
        problems = approval_problems(order, lines)
        if problems:
            raise ApprovalBlocked(f"Order {order.number} cannot be approved.", problems=problems)
        if settings.OMS_FOUR_EYES and actor.is_person and order.lines_edited_by_id == actor.user.pk:
            raise FourEyesViolation(
                f"You edited the lines of {order.number}; another coordinator must approve it."
            )
        return _apply_transition(order, "approve", actor=actor)


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
        order = _lock_order(order)
        _check_transition(order, name, actor=actor)
        _check_reason(reason_code, reason_text)
        lines = _lock_lines(order)
        with audit.acting(actor, reason=f"{name}: {reason_text}"):
            released = release_allocations(lines=lines, actor=actor, reason=f"order {name}ed")
        Release.objects.filter(
            order=order, status__in=[ReleaseStatus.REQUESTED, ReleaseStatus.ACCEPTED]
        ).update(status=ReleaseStatus.REJECTED)
        return _apply_transition(
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
        order = _lock_order(order)
        _authorize(actor, "orders.enrich_order", order, "edit")
        if order.status != S.DRAFT:
            raise TransitionNotAllowed(
                f"Order {order.number} is {order.get_status_display().lower()}; only draft "
                "orders can be edited."
            )
        _check_version(order, expected_version)
        if edits.is_empty():
            return order
        lines = {line.pk: line for line in _lock_lines(order)}
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
                "actor": _actor_payload(actor),
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


# --- Allocation, release, completion ----------------------------------------------------


def order_allocate(*, order: Order, warehouse: Warehouse, actor: Actor) -> Order:
    """Reserve all of an APPROVED order's lines in one warehouse, or nothing."""
    with transaction.atomic():
        order = _lock_order(order)
        _check_transition(order, "allocate", actor=actor)
        if order.gated:
            raise TransitionNotAllowed(f"Order {order.number} is gated: {order.gate_reason}")
        lines = _lock_lines(order)
        with audit.acting(actor, reason=f"allocated at {warehouse.code}"):
            reserve_from_warehouse(lines=lines, warehouse=warehouse, actor=actor)
        return _apply_transition(
            order, "allocate", actor=actor, payload={"warehouses": [warehouse.code]}
        )


def order_release(*, order: Order, actor: Actor) -> Order:
    """Ask the warehouses holding the order's stock to pick and ship it."""
    with transaction.atomic():
        order = _lock_order(order)
        _check_transition(order, "release", actor=actor)
        lines = _lock_lines(order)
        per_warehouse: dict[int, list[dict]] = {}
        for allocation in order_allocations(lines).select_related(
            "stock_level__warehouse", "order_line__item"
        ):
            per_warehouse.setdefault(allocation.stock_level.warehouse_id, []).append(
                {"item": allocation.order_line.item.code, "quantity": allocation.quantity}
            )
        releases = [
            Release.objects.create(order=order, warehouse_id=warehouse_id)
            for warehouse_id in sorted(per_warehouse)
        ]
        return _apply_transition(
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


def order_allocations(lines):
    return Allocation.objects.filter(order_line__in=lines, status=Allocation.Status.ACTIVE)


def order_complete(
    *, order: Order, actor: Actor, shipped: Mapping[int, int] | None = None
) -> Order:
    """The warehouse shipped: stock is issued and the order CLOSED. `shipped` gives the
    shipped quantity per line id (default: everything allocated); what was not shipped
    goes back to available stock and stays outstanding on the line."""
    with transaction.atomic():
        order = _lock_order(order)
        _check_transition(order, "complete", actor=actor)
        lines = _lock_lines(order)
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
        ).update(status=ReleaseStatus.COMPLETED)
        short = [
            {"item": line.item.code, "outstanding": line.outstanding_quantity}
            for line in lines
            if line.outstanding_quantity
        ]
        return _apply_transition(
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


# --- Returns ----------------------------------------------------------------------------


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
        seen, order = order, _lock_order(order.pk)
        if external_id:
            existing = Return.objects.filter(external_id=external_id).first()
            if existing:
                return existing
        _refuse_stale(seen, order)
        _check_transition(order, "return_partially", actor=actor)
        locked = {line.pk: line for line in _lock_lines(order)}
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
        _apply_transition(
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
        order = _lock_order(order)
        return _apply_transition(
            order, "resolve_close", actor=actor, payload={"note": note.strip()} if note else None
        )


def order_reopen(*, order: Order, actor: Actor, reason_code: str, reason_text: str) -> Order:
    """After a return, send the order back to DRAFT to change its lines and approve it
    again; what is still needed is each line's outstanding quantity."""
    with transaction.atomic():
        order = _lock_order(order)
        return _apply_transition(
            order, "reopen", actor=actor, reason_code=reason_code, reason_text=reason_text
        )


# --- Upstream revisions -----------------------------------------------------------------

HEADER_FIELDS = ("need_by", "national_priority", "plan_type")


def order_revise(
    *,
    order: Order,
    header: Mapping[str, object],
    lines: Sequence[LineSpec],
    actor: Actor,
    event_id: str = "",
) -> Order:
    """Apply a new upstream design to a DRAFT order in place: header fields, and the
    upstream and kit lines set to the design (lines a coordinator added stay). A new
    revision records only what changed."""
    with transaction.atomic():
        order = _lock_order(order.pk)
        if order.status != S.DRAFT:
            raise TransitionNotAllowed(
                f"Order {order.number} is {order.get_status_display().lower()}; only a draft "
                "is revised in place."
            )
        current = {line.item_id: line for line in _lock_lines(order)}
        wanted = {spec.item.pk: spec for spec in lines}
        header_delta = {
            name: [_jsonable(getattr(order, name)), _jsonable(value)]
            for name, value in header.items()
            if getattr(order, name) != value
        }
        added, removed, changed = [], [], []
        with audit.acting(actor, reason=event_id or "upstream revision"):
            for item_id, line in current.items():
                spec = wanted.get(item_id)
                if spec is None:
                    if line.source != LineSource.MANUAL:
                        removed.append({"item": line.item.code, "quantity": line.quantity})
                        line.delete()
                elif line.quantity != spec.quantity or line.source != spec.source:
                    if line.quantity != spec.quantity:
                        changed.append(
                            {"item": line.item.code, "quantity": [line.quantity, spec.quantity]}
                        )
                    line.quantity, line.source = spec.quantity, spec.source
                    line.kit, line.replaces_item = spec.kit, spec.replaces_item
                    line.save()
            for item_id, spec in wanted.items():
                if item_id not in current:
                    OrderLine.objects.create(
                        order=order,
                        item=spec.item,
                        quantity=spec.quantity,
                        source=spec.source,
                        kit=spec.kit,
                        replaces_item=spec.replaces_item,
                    )
                    added.append({"item": spec.item.code, "quantity": spec.quantity})
            for name, value in header.items():
                setattr(order, name, value)
            order.revision += 1
            order.version += 1
            order.save()
        delta = {"lines": {"added": added, "removed": removed, "changed": changed}}
        if header_delta:
            delta["header"] = header_delta
        OrderRevision.objects.create(
            order=order,
            number=order.revision,
            source=RevisionSource.UPSTREAM,
            event_id=event_id,
            delta=delta,
            actor_kind=actor.kind,
            actor_name=actor.name,
            correlation_id=correlation.get(),
        )
        outbox.publish(
            event_type="order.revised",
            aggregate_type="order",
            aggregate_id=order.pk,
            payload={"number": order.number, "revision": order.revision, "delta": delta},
        )
        return order


def order_flag(*, order: Order, note: str, actor: Actor) -> Order:
    """Record on the order something upstream asked for that OMS cannot apply itself."""
    with transaction.atomic():
        order = _lock_order(order.pk)
        order.upstream_flag = "\n".join(filter(None, [order.upstream_flag, note.strip()]))
        order.version += 1
        with audit.acting(actor, reason=note):
            order.save()
        outbox.publish(
            event_type="order.flagged",
            aggregate_type="order",
            aggregate_id=order.pk,
            payload={"number": order.number, "note": note.strip()},
        )
        return order


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
