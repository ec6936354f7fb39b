"""Shared steps of the order use cases: locking, checks, applying a transition."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.utils import timezone
from django_fsm import can_proceed

from catalog.models import Item, Kit
from oms import audit, correlation, outbox
from oms.actors import Actor
from oms.errors import (
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
from orders.locks import lock_order
from orders.models import REASONED_TRANSITIONS, Order, OrderLine, transition_moves
from warehouse.ledger import reservations
from warehouse.ledger.choices import Condition

S = OrderStatus

# The versions of an order a caller read, for a service to check on the locked row:
# one (a page's hidden field), several (an If-Match header may name more than one
# ETag), or None for no check.
ExpectedVersion = int | Collection[int] | None


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
    permission = transition_moves(name)[0].permission
    assert isinstance(permission, str), f"the {name} transition names its permission"
    return permission


def lock_unchanged(order: Order | int, expected_version: ExpectedVersion = None) -> Order:
    """Lock the order's row and return it fresh, refusing a caller that decided on
    another version of it (see refuse_stale)."""
    locked = lock_order(order if isinstance(order, int) else order.pk)
    refuse_stale(order, locked, expected_version)
    return locked


def refuse_stale(
    seen: Order | int, locked: Order, expected_version: ExpectedVersion = None
) -> None:
    """Refuse (StaleVersion) a caller that decided on data the locked row no longer
    holds, instead of applying its decision to an order it never saw. A caller that
    names the versions it read (a page's hidden field, an If-Match header) is refused
    unless the order is at one of them. One that names none but passes the order as it
    loaded it is refused if its status changed since, as django-fsm's concurrent
    transitions are. One that passes only the id acts on the order as it is."""
    if expected_version is not None:
        accepted = {expected_version} if isinstance(expected_version, int) else expected_version
        if locked.version not in accepted:
            raise StaleVersion(
                f"Order {locked.number} changed since you loaded it (version "
                f"{_versions_text(expected_version)}, now {locked.version}). Reload to see "
                "the latest data.",
                version=locked.version,
            )
    elif isinstance(seen, Order) and seen.status != locked.status:
        raise StaleVersion(
            f"Order {locked.number} changed since you loaded it: it was "
            f"{seen.get_status_display().lower()}, it is now "
            f"{locked.get_status_display().lower()}. Reload to see the latest data."
        )


def _versions_text(expected: int | Collection[int]) -> str:
    if isinstance(expected, int):
        return str(expected)
    return " or ".join(str(v) for v in sorted(expected)) or "unknown"


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


def check_transition(order: Order, name: str, *, actor: Actor) -> None:
    """Refuse a transition the actor may not make or the order's status does not allow."""
    verb = name.replace("_", " ")
    actor.require(transition_permission(name), f"{verb} order {order.number}")
    if not can_proceed(getattr(order, name)):
        raise TransitionNotAllowed(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            f"it cannot {verb} from there."
        )


def transition_edge(name: str) -> tuple[str, str]:
    """The one source status and the target of a transition that has one source (for
    the transitions made in bulk)."""
    (move,) = transition_moves(name)
    assert isinstance(move.source, str) and isinstance(move.target, str), "statuses are text"
    return move.source, move.target


def transition_event(
    *,
    order_id: int,
    number: str,
    version: int,
    name: str,
    source: str,
    target: str,
    actor: Actor,
    reason_code: str = "",
    reason_text: str = "",
    payload: dict | None = None,
) -> dict:
    """The outbox event of one transition, made singly (apply_transition) or in bulk."""
    return {
        "event_type": TRANSITION_EVENTS[name],
        "aggregate_type": "order",
        "aggregate_id": order_id,
        "payload": {
            "number": number,
            "from": source,
            "to": target,
            "version": version,
            "actor": actor.as_payload(),
            "reason": {"code": reason_code, "text": reason_text.strip()} if reason_code else None,
            **(payload or {}),
        },
    }


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
        **transition_event(
            order_id=order.pk,
            number=order.number,
            version=order.version,
            name=name,
            source=source,
            target=order.status,
            actor=actor,
            reason_code=reason_code,
            reason_text=reason_text,
            payload=payload,
        )
    )
    return order


def give_back_stock(lines: list[OrderLine], *, actor: Actor, reason: str) -> int:
    """Give back everything the locked lines hold (the ledger's release_allocations) and
    set their allocated quantity to nothing, with history. Used by reject, cancel and
    upstream changes. Returns the units given back."""
    released = reservations.release_allocations(lines=lines, actor=actor, reason=reason)
    held = [line for line in lines if line.allocated_quantity]
    if held:
        OrderLine.objects.filter(pk__in=[line.pk for line in held]).update(allocated_quantity=0)
        for line in held:
            line.allocated_quantity = 0
        audit.bulk_history_of(
            OrderLine.objects.filter(pk__in=[line.pk for line in held]),
            history_type="~",
            key="id",
            reasons={line.pk: (audit.current_reason(), correlation.get()) for line in held},
        )
    return sum(released.values())


def save_lines(lines: Iterable[OrderLine], actor: Actor, reason: str, fields: list[str]) -> None:
    with audit.acting(actor, reason=reason):
        for line in lines:
            line.save(update_fields=fields)


def jsonable(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value
