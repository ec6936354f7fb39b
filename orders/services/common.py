"""Shared steps of the order use cases: locking, checks, applying a transition."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.utils import timezone
from django_fsm import can_proceed

from catalog.models import Item, Kit
from oms import audit, outbox
from oms.actors import Actor
from oms.errors import (
    ActionForbidden,
    Problem,
    ReasonRequired,
    StaleVersion,
    TransitionNotAllowed,
)
from orders.choices import (
    LineSource,
    OrderStatus,
    ReasonCode,
)
from orders.models import REASONED_TRANSITIONS, Order, OrderLine
from warehouse.choices import Condition

S = OrderStatus


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

    def line_of(self, order: Order) -> OrderLine:
        """The order's line this spec describes, not saved yet."""
        return OrderLine(
            order=order,
            item=self.item,
            quantity=self.quantity,
            source=self.source,
            kit=self.kit,
            replaces_item=self.replaces_item,
        )


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
    kits: Sequence[tuple[Kit, int]] = ()  # a kit and how many of it

    def is_empty(self) -> bool:
        return not (self.quantities or self.add or self.remove or self.kits)


# The transitions people and clients ask for directly (allocate, complete and the
# returns are made by the allocation engine and the warehouse).
REQUESTABLE_TRANSITIONS = ("approve", "release", "resolve_close", "reject", "reopen", "cancel")


def allowed_transitions(order: Order, actor: Actor) -> list[str]:
    """The requestable transitions this actor may make on the order now."""
    return [
        name
        for name in REQUESTABLE_TRANSITIONS
        if actor.has_perm(transition_permission(name)) and can_proceed(getattr(order, name))
    ]


def transition_permission(name: str) -> str:
    meta = getattr(Order, name)._django_fsm
    return next(iter(meta.transitions.values())).permission


def lock_order(order: Order | int) -> Order:
    """Lock the order's row and return it fresh. A caller that passes the order as it
    loaded it acts on that status (see refuse_stale)."""
    pk = order if isinstance(order, int) else order.pk
    locked = Order.objects.select_for_update(of=("self",)).select_related("project").get(pk=pk)
    if isinstance(order, Order):
        refuse_stale(order, locked)
    return locked


def refuse_stale(seen: Order, locked: Order) -> None:
    """If someone moved the order since the caller loaded it, the caller decided on
    stale data: refuse, as django-fsm's concurrent transitions do, instead of applying
    the decision to a status the caller never saw."""
    if seen.status != locked.status:
        raise StaleVersion(
            f"Order {locked.number} changed since you loaded it: it was "
            f"{seen.get_status_display().lower()}, it is now "
            f"{locked.get_status_display().lower()}. Reload to see the latest data."
        )


def lock_lines(order: Order) -> list[OrderLine]:
    return list(order.lines.select_for_update(of=("self",)).select_related("item").order_by("pk"))


def authorize(actor: Actor, perm: str, order: Order, verb: str) -> None:
    if not actor.has_perm(perm):
        raise ActionForbidden(f"{actor} may not {verb} order {order.number}.")


def check_reason(reason_code: str, reason_text: str) -> None:
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


def check_version(order: Order, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != order.version:
        raise StaleVersion(
            f"Order {order.number} changed since you loaded it (version {expected_version}, "
            f"now {order.version}). Reload to see the latest data."
        )


def check_transition(order: Order, name: str, *, actor: Actor) -> None:
    """Refuse a transition the actor may not make or the order's status does not allow."""
    verb = name.replace("_", " ")
    authorize(actor, transition_permission(name), order, verb)
    if not can_proceed(getattr(order, name)):
        raise TransitionNotAllowed(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            f"it cannot {verb} from there."
        )


def apply_transition(
    order: Order,
    name: str,
    *,
    actor: Actor,
    reason_code: str = "",
    reason_text: str = "",
    payload: dict | None = None,
) -> Order:
    """Check, apply and record one transition on a locked order."""
    check_transition(order, name, actor=actor)
    if name in REASONED_TRANSITIONS:
        check_reason(reason_code, reason_text)
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
            "actor": actor.as_payload(),
            "reason": {"code": reason_code, "text": reason_text.strip()} if reason_code else None,
            **(payload or {}),
        },
    )
    return order


def unlink_from_stock(line_ids: Iterable[int]) -> None:
    """Before draft lines are deleted: the allocations they once held go (they have all
    ended, and the ledger tells their story), and their ledger movements keep the order
    and the item but no longer point at the line. A line still holding stock is never
    removed: a draft holds none."""
    from allocation.models import Allocation
    from warehouse.models import StockMovement

    line_ids = list(line_ids)
    held = Allocation.objects.filter(order_line__in=line_ids, status=Allocation.Status.ACTIVE)
    if held.exists():
        raise TransitionNotAllowed("A line that holds stock cannot be removed.")
    Allocation.objects.filter(order_line__in=line_ids).delete()
    StockMovement.objects.filter(order_line__in=line_ids).update(order_line=None)


def save_lines(lines: Iterable[OrderLine], actor: Actor, reason: str, fields: list[str]) -> None:
    with audit.acting(actor, reason=reason):
        for line in lines:
            line.save(update_fields=fields)


def jsonable(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value
