"""Upstream revisions applied to draft orders, and flags for what cannot be applied."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import transaction

from oms import audit, correlation, outbox
from oms.actors import Actor
from oms.errors import (
    TransitionNotAllowed,
)
from orders.choices import (
    LineSource,
    RevisionSource,
)
from orders.models import Order, OrderLine, OrderRevision
from orders.services.common import (
    LineSpec,
    S,
    jsonable,
    lock_lines,
    lock_order,
    unlink_from_stock,
)

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
        order = lock_order(order.pk)
        if order.status != S.DRAFT:
            raise TransitionNotAllowed(
                f"Order {order.number} is {order.get_status_display().lower()}; only a draft "
                "is revised in place."
            )
        current = {line.item_id: line for line in lock_lines(order)}
        wanted = {spec.item.pk: spec for spec in lines}
        header_delta = {
            name: [jsonable(getattr(order, name)), jsonable(value)]
            for name, value in header.items()
            if getattr(order, name) != value
        }
        added, removed, changed = [], [], []
        gone = [
            line
            for item_id, line in current.items()
            if item_id not in wanted and line.source != LineSource.MANUAL
        ]
        kept = [line for line in gone if line.released_quantity]
        gone = [line for line in gone if not line.released_quantity]
        if kept:
            add_flags(
                order, shipped_notes((line.item.code, line.released_quantity) for line in kept)
            )
        with audit.acting(actor, reason=event_id or "upstream revision"):
            unlink_from_stock(line.pk for line in gone)
            for line in gone:
                removed.append({"item": line.item.code, "quantity": line.quantity})
                line.delete()
            for item_id, line in current.items():
                spec = wanted.get(item_id)
                if spec is None:
                    continue
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


def add_flags(order: Order, notes) -> None:
    """Add notes to the order's upstream flag, one per line (the caller saves it)."""
    order.upstream_flag = "\n".join(filter(None, [order.upstream_flag, *notes]))


def shipped_notes(lines) -> list[str]:
    """The flags for lines, as (item code, shipped), that upstream removed after stock
    was shipped for them: they stay on the order, for the coordinator."""
    return [
        f"Upstream removed {code}, but {shipped} were shipped for it; the line stays on the order."
        for code, shipped in lines
    ]


def order_flag(
    *, order: Order, note: str, actor: Actor, replaces: str = "", reason: str = ""
) -> Order:
    """Record on the order something upstream asked for that OMS cannot apply itself.
    The notes starting with `replaces` are taken off first: the new note (none when it
    is empty) says what holds now. The history records `reason`, else the note."""
    with transaction.atomic():
        order = lock_order(order.pk)
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
