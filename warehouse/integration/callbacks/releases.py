"""What the warehouse reports about a release: accepted, rejected, completed, and
material of it that came back."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from oms.actors import Actor
from oms.errors import Problem, TransitionNotAllowed, ValidationFailed
from orders import services as order_services
from orders.choices import OrderStatus, ReasonCode
from orders.locks import lock_lines, lock_order
from orders.models import Order
from warehouse.integration.callbacks.receipts import (
    Answer,
    Effect,
    ReturnedLine,
    ShippedLine,
    receive,
)
from warehouse.integration.choices import CallbackKind, ReleaseStatus
from warehouse.integration.client import release_lines
from warehouse.integration.dispatch import publish_release_event
from warehouse.integration.models import Release
from warehouse.integration.releases import finish_open_releases
from warehouse.integration.selectors import OPEN_RELEASE_STATUSES


def _lock_release(release: Release) -> tuple[Order, Release]:
    """Lock the release's order, then the release (the order first, as everywhere)."""
    order = lock_order(release.order_id)
    locked = Release.objects.select_for_update(of=("self",)).select_related("warehouse")
    return order, locked.get(pk=release.pk)


def release_accepted(*, release: Release, event_id: str, actor: Actor) -> Answer:
    """The warehouse will pick and ship the release."""

    def apply() -> Effect:
        actor.require("orders.complete_order", "report release progress")
        order, locked = _lock_release(release)
        if locked.status == ReleaseStatus.REJECTED:
            raise TransitionNotAllowed(
                f"Release {locked.release_id} was rejected or withdrawn; it cannot be accepted."
            )
        if locked.status != ReleaseStatus.REQUESTED:
            return Effect(f"already {locked.status}", order, locked)
        now = timezone.now()
        locked.status = ReleaseStatus.ACCEPTED
        locked.accepted_at = now
        locked.sent_at = locked.sent_at or now
        locked.save(update_fields=["status", "accepted_at", "sent_at", "updated_at"])
        publish_release_event(locked, "release.accepted", actor=actor, event_id=event_id)
        return Effect("accepted", order, locked)

    return receive(
        event_id=event_id,
        kind=CallbackKind.ACCEPTED,
        content={"release_id": str(release.release_id)},
        actor=actor,
        apply=apply,
    )


def release_rejected(*, release: Release, event_id: str, reason: str, actor: Actor) -> Answer:
    """The warehouse will not ship the release: the order goes back to DRAFT with the
    reason, and its stock is unreserved."""
    reason = reason.strip()

    def apply() -> Effect:
        order, locked = _lock_release(release)
        if locked.status == ReleaseStatus.REJECTED:
            return Effect("already rejected", order, locked)
        if locked.status == ReleaseStatus.COMPLETED:
            raise TransitionNotAllowed(
                f"Release {locked.release_id} is completed; it cannot be rejected."
            )
        order = order_services.order_reject(
            order=order,
            actor=actor,
            reason_code=ReasonCode.WAREHOUSE_REJECTED,
            reason_text=f"{locked.warehouse.code}: {reason}",
        )
        finish_open_releases(order.pk, ReleaseStatus.REJECTED)
        locked.refresh_from_db()
        locked.reason = reason[:500]
        locked.sent_at = locked.sent_at or timezone.now()
        locked.save(update_fields=["reason", "sent_at", "updated_at"])
        publish_release_event(
            locked, "release.rejected", actor=actor, event_id=event_id, reason=reason
        )
        return Effect("rejected", order, locked)

    return receive(
        event_id=event_id,
        kind=CallbackKind.REJECTED,
        content={"release_id": str(release.release_id), "reason": reason},
        actor=actor,
        apply=apply,
    )


def release_completed(
    *, release: Release, event_id: str, lines: Sequence[ShippedLine], actor: Actor
) -> Answer:
    """The warehouse shipped: the order is CLOSED and the shipped stock issued. A line
    shipped short keeps the rest outstanding, and its reserved stock is available again
    (see orders.services.order_complete)."""

    def apply() -> Effect:
        order, locked = _lock_release(release)
        if locked.status == ReleaseStatus.COMPLETED:
            return Effect("already completed", order, locked, extra=_shipped(locked))
        if locked.status == ReleaseStatus.REJECTED:
            raise TransitionNotAllowed(
                f"Release {locked.release_id} was rejected or withdrawn; it cannot be completed."
            )
        others = order.releases.filter(status__in=OPEN_RELEASE_STATUSES).exclude(pk=locked.pk)
        if others.exists():
            raise TransitionNotAllowed(
                f"Order {order.number} was released to several warehouses; completing one "
                "part of it is not supported.",
                code="split_release",
            )
        requested = {entry["item"]: entry["quantity"] for entry in release_lines(locked)}
        shipped = _check_shipped(order, requested, lines)
        order = order_services.order_complete(order=order, actor=actor, shipped=shipped)
        finish_open_releases(order.pk, ReleaseStatus.COMPLETED)
        locked.refresh_from_db()
        locked.shipped = {line.item: line.shipped for line in lines}
        locked.sent_at = locked.sent_at or timezone.now()
        locked.save(update_fields=["shipped", "sent_at", "updated_at"])
        short = {
            item: quantity - locked.shipped[item]
            for item, quantity in requested.items()
            if locked.shipped[item] < quantity
        }
        publish_release_event(
            locked,
            "release.completed",
            actor=actor,
            event_id=event_id,
            shipped=locked.shipped,
            short=short,
        )
        return Effect(
            "completed short" if short else "completed", order, locked, extra=_shipped(locked)
        )

    return receive(
        event_id=event_id,
        kind=CallbackKind.COMPLETED,
        content={
            "release_id": str(release.release_id),
            "lines": sorted([line.item, line.shipped] for line in lines),
        },
        actor=actor,
        apply=apply,
    )


def _shipped(release: Release) -> dict:
    shipped = sorted(release.shipped.items())
    return {"shipped": [{"item": code, "shipped": n} for code, n in shipped]}


def _check_shipped(
    order: Order, requested: dict[str, int], lines: Sequence[ShippedLine]
) -> dict[int, int]:
    """Shipped quantity per order line id; every line of the release said once."""
    by_item = {line.item.code: line for line in lock_lines(order)}
    problems, seen = [], set()
    for line in lines:
        if line.item in seen:
            problems.append(Problem("duplicate_item", f"{line.item} is listed twice.", line.item))
        seen.add(line.item)
        if line.item not in requested or line.item not in by_item:
            problems.append(
                Problem("unknown_item", f"{line.item} is not on the release.", line.item)
            )
        elif not 0 <= line.shipped <= requested[line.item]:
            problems.append(
                Problem(
                    "invalid_quantity",
                    f"{line.item}: shipped {line.shipped}, requested {requested[line.item]}.",
                    line.item,
                )
            )
    for item in sorted(set(requested) - seen):
        problems.append(Problem("required", f"Say how many {item} were shipped (0 if none).", item))
    if problems:
        raise ValidationFailed("The shipment does not fit the release.", problems=problems)
    return {by_item[line.item].pk: line.shipped for line in lines}


def release_returned(
    *, release: Release, event_id: str, lines: Sequence[ReturnedLine], actor: Actor
) -> Answer:
    """Material of a completed release came back: good stock back on hand, damaged
    stock set aside; the order becomes PARTIALLY_ or FULLY_RETURNED."""

    def apply() -> Effect:
        order, locked = _lock_release(release)
        if order.status not in (OrderStatus.CLOSED, OrderStatus.PARTIALLY_RETURNED):
            raise TransitionNotAllowed(
                f"Order {order.number} is {order.get_status_display().lower()}; a return is "
                "recorded once the release is completed."
            )
        by_item = {line.item.code: line for line in order.lines.select_related("item")}
        unknown = [line.item for line in lines if line.item not in by_item]
        if unknown:
            raise ValidationFailed(
                "The return names items that are not on the order.",
                problems=[Problem("unknown_item", f"{c} is not on the order.", c) for c in unknown],
            )
        record = order_services.order_record_return(
            order=order,
            warehouse=locked.warehouse,
            lines=[
                order_services.ReturnSpec(
                    line=by_item[line.item],
                    quantity=line.quantity,
                    condition=line.condition,
                    reason=line.reason,
                )
                for line in lines
            ],
            actor=actor,
            external_id=event_id,
        )
        order.refresh_from_db()
        return Effect(f"returned to {order.status}", order, locked, extra={"return_id": record.pk})

    return receive(
        event_id=event_id,
        kind=CallbackKind.RETURNED,
        content={
            "release_id": str(release.release_id),
            "lines": sorted(
                [line.item, line.quantity, line.condition, line.reason] for line in lines
            ),
        },
        actor=actor,
        apply=apply,
    )
