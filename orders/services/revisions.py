"""Upstream revisions applied to draft orders, and flags for what cannot be applied."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from django.db import transaction
from django.db.models import Model

from oms import audit, correlation, outbox
from oms.actors import Actor
from oms.errors import (
    TransitionNotAllowed,
)
from orders.choices import (
    LineSource,
    RevisionSource,
)
from orders.locks import lock_lines
from orders.models import Order, OrderLine, OrderRevision
from orders.services.common import (
    ExpectedVersion,
    LineSpec,
    S,
    jsonable,
    lock_unchanged,
)
from warehouse.ledger import reservations

HEADER_FIELDS = ("need_by", "national_priority", "plan_type")

# The caller's own line in a LineState: a model instance, or a row of values.
Ref = TypeVar("Ref")


@dataclass(frozen=True)
class LineState(Generic[Ref]):
    """What a revision compares of one of the order's lines; `ref` is the caller's own
    line (a model instance, or a row of values in a batch)."""

    item_code: str
    quantity: int
    source: str
    kit_id: int | None
    replaces_item_id: int | None
    released_quantity: int
    ref: Ref

    @staticmethod
    def of(line: OrderLine) -> LineState[OrderLine]:
        return LineState(
            line.item.code,
            line.quantity,
            line.source,
            line.kit_id,
            line.replaces_item_id,
            line.released_quantity,
            line,
        )


@dataclass
class LineDiff(Generic[Ref]):
    """How an order's lines become a new design's (see diff_lines)."""

    removed: list[LineState[Ref]] = field(default_factory=list)
    shipped: list[LineState[Ref]] = field(default_factory=list)
    updated: list[tuple[LineState[Ref], LineSpec]] = field(default_factory=list)
    added: list[LineSpec] = field(default_factory=list)
    delta: dict = field(default_factory=lambda: {"added": [], "removed": [], "changed": []})


def diff_lines(
    current: Mapping[int, LineState[Ref]], wanted: Mapping[int, LineSpec]
) -> LineDiff[Ref]:
    """The one rule for applying a design's lines (by item id) to an order's, for a
    single event and for a batch alike:

    - a line the design no longer has is removed, unless a coordinator added it (it
      stays) or stock was shipped for it (it stays, and the order is flagged: `shipped`);
    - a line the design has is updated when anything the design sets differs: quantity,
      source, kit (the same quantity now coming with another kit, or loose) or the item
      it replaces; the revision's delta lists it as changed only when its quantity is;
    - an item new to the order is added."""
    diff: LineDiff[Ref] = LineDiff()
    for item_id, line in current.items():
        spec = wanted.get(item_id)
        if spec is None:
            if line.source == LineSource.MANUAL:
                continue
            if line.released_quantity:
                diff.shipped.append(line)
                continue
            diff.removed.append(line)
            diff.delta["removed"].append({"item": line.item_code, "quantity": line.quantity})
            continue
        now = (line.quantity, line.source, line.kit_id, line.replaces_item_id)
        if now == (spec.quantity, spec.source, _pk(spec.kit), _pk(spec.replaces_item)):
            continue
        diff.updated.append((line, spec))
        if line.quantity != spec.quantity:
            diff.delta["changed"].append(
                {"item": line.item_code, "quantity": [line.quantity, spec.quantity]}
            )
    for item_id, spec in wanted.items():
        if item_id not in current:
            diff.added.append(spec)
            diff.delta["added"].append({"item": spec.item.code, "quantity": spec.quantity})
    return diff


def _pk(instance: Model | None) -> int | None:
    return instance.pk if instance is not None else None


def order_revise(
    *,
    order: Order,
    header: Mapping[str, object],
    lines: Sequence[LineSpec],
    actor: Actor,
    event_id: str = "",
    expected_version: ExpectedVersion = None,
) -> Order:
    """Apply a new upstream design to a DRAFT order in place: header fields, and the
    upstream and kit lines set to the design (lines a coordinator added stay). A new
    revision records only what changed. The design applies to the order as it is now,
    whatever status the caller saw, unless the caller names the version it expects."""
    with transaction.atomic():
        order = lock_unchanged(order.pk, expected_version)
        if order.status != S.DRAFT:
            raise TransitionNotAllowed(
                f"Order {order.number} is {order.get_status_display().lower()}; only a draft "
                "is revised in place."
            )
        current = {line.item_id: LineState.of(line) for line in lock_lines(order)}
        diff = diff_lines(current, {spec.item.pk: spec for spec in lines})
        header_delta = {
            name: [jsonable(getattr(order, name)), jsonable(value)]
            for name, value in header.items()
            if getattr(order, name) != value
        }
        if diff.shipped:
            add_flags(
                order,
                shipped_notes((line.item_code, line.released_quantity) for line in diff.shipped),
            )
        with audit.acting(actor, reason=event_id or "upstream revision"):
            reservations.forget_lines(line.ref.pk for line in diff.removed)
            for line in diff.removed:
                line.ref.delete()
            for line, spec in diff.updated:
                line.ref.quantity, line.ref.source = spec.quantity, spec.source
                line.ref.kit, line.ref.replaces_item = spec.kit, spec.replaces_item
                line.ref.save()
            for spec in diff.added:
                spec.line_of(order).save()
            for name, value in header.items():
                setattr(order, name, value)
            order.revision += 1
            order.version += 1
            order.save()
        delta = {"lines": diff.delta}
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


def add_flags(order: Order, notes: Iterable[str]) -> None:
    """Add notes to the order's upstream flag, one per line (the caller saves it)."""
    order.upstream_flag = "\n".join(filter(None, [order.upstream_flag, *notes]))


def shipped_notes(lines: Iterable[tuple[str, int]]) -> list[str]:
    """The flags for lines, as (item code, shipped), that upstream removed after stock
    was shipped for them: they stay on the order, for the coordinator."""
    return [
        f"Upstream removed {code}, but {shipped} were shipped for it; the line stays on the order."
        for code, shipped in lines
    ]


def order_flag(
    *,
    order: Order,
    note: str,
    actor: Actor,
    replaces: str = "",
    reason: str = "",
    expected_version: ExpectedVersion = None,
) -> Order:
    """Record on the order something upstream asked for that OMS cannot apply itself.
    The notes starting with `replaces` are taken off first: the new note (none when it
    is empty) says what holds now. The history records `reason`, else the note."""
    with transaction.atomic():
        order = lock_unchanged(order.pk, expected_version)
        if replaces:
            order.upstream_flag = "\n".join(
                n for n in order.upstream_flag.splitlines() if not n.startswith(replaces)
            )
        add_flags(order, [note.strip()])
        order.version += 1
        with audit.acting(actor, reason=reason or note):
            order.save()
        outbox.publish(
            event_type="order.flagged",
            aggregate_type="order",
            aggregate_id=order.pk,
            payload={"number": order.number, "note": note.strip(), "flag": order.upstream_flag},
        )
        return order
