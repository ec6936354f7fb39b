"""The stock ledger: every change to a stock level is a movement.

Counters change through F() expressions on rows the caller has locked, so two writers
never lose each other's updates, and CHECK constraints make negative or over-reserved
stock impossible even for a bug. Locks are taken in primary-key order.

When a movement takes a level's available stock below its minimum level, a
`stock.below_minimum` event is published in the same transaction, once per crossing:
the level's `below_minimum` flag is set when it crosses down and cleared when available
is back at or above the minimum. A movement that makes stock available publishes
`stock.available` (the allocation app answers it with a run soon after).
"""

from collections.abc import Iterable, Sequence
from typing import Protocol

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Item
from oms import audit, correlation, outbox
from oms.actors import Actor
from oms.bulk import chunked, insert_values, rows_by_ids
from oms.errors import InsufficientStock, ValidationFailed
from warehouse.ledger.choices import MOVEMENT_EFFECTS, Condition, MovementKind
from warehouse.ledger.models import StockLevel, StockMovement, Warehouse


class OrderLineLike(Protocol):
    """What the ledger reads of an order line (orders.models.OrderLine, in the layer
    above the ledger, which the ledger does not import)."""

    @property
    def pk(self) -> int: ...
    @property
    def order_id(self) -> int: ...
    @property
    def item_id(self) -> int: ...
    @property
    def item(self) -> Item: ...
    @property
    def allocated_quantity(self) -> int: ...
    @property
    def outstanding_quantity(self) -> int: ...


def lock_levels(ids: Iterable[int]) -> dict[int, StockLevel]:
    """Lock stock levels in primary-key order and return them by id. Every writer locks
    them after the orders and lines it writes (orders.locks)."""
    levels = StockLevel.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")
    return {level.pk: level for level in levels}


def lock_level_values(ids: Iterable[int], columns: Sequence[str]) -> list[tuple]:
    """The same lock as lock_levels, reading only `columns` of each level, as tuples in
    primary-key order: for bulk work (an allocation run's chunk)."""
    return rows_by_ids(StockLevel, ids, list(columns), lock=True)


def stock_level_locked(*, warehouse: Warehouse, item: Item) -> StockLevel:
    """The locked stock level of an item in a warehouse, created empty if missing (an
    insert that two writers may race for: the loser's insert does nothing)."""
    if not StockLevel.objects.filter(warehouse=warehouse, item=item).exists():
        StockLevel.objects.bulk_create(
            [StockLevel(warehouse=warehouse, item=item)], ignore_conflicts=True
        )
    return StockLevel.objects.select_for_update().get(warehouse=warehouse, item=item)


def _moved(level: StockLevel, kind: MovementKind, quantity: int) -> tuple[int, int, int]:
    """On hand, reserved and damaged once the movement is applied to the level; refuses a
    movement that would leave the level inconsistent."""
    on_hand_sign, reserved_sign, damaged_sign = MOVEMENT_EFFECTS[kind]
    on_hand = level.on_hand + on_hand_sign * quantity
    reserved = level.reserved + reserved_sign * quantity
    damaged = level.damaged + damaged_sign * quantity
    if on_hand < 0 or reserved < 0 or reserved > on_hand or damaged < 0:
        raise InsufficientStock(
            f"{kind.label} of {quantity} {level.item.code} at {level.warehouse.code} would leave "
            f"on hand {on_hand}, reserved {reserved}: only {level.available} available."
        )
    return on_hand, reserved, damaged


def record_movement(
    *,
    level: StockLevel,
    kind: MovementKind,
    quantity: int,
    actor: Actor,
    order_line: OrderLineLike | None = None,
    reason: str = "",
) -> StockMovement:
    """Apply one movement to a stock level the caller holds locked, and write it to the
    ledger. Refuses a movement that would leave the level inconsistent."""
    on_hand_sign, reserved_sign, damaged_sign = MOVEMENT_EFFECTS[kind]
    on_hand, reserved, damaged = _moved(level, kind, quantity)
    below = on_hand - reserved < level.minimum_level
    crossed_down = below and not level.below_minimum
    StockLevel.objects.filter(pk=level.pk).update(
        on_hand=F("on_hand") + on_hand_sign * quantity,
        reserved=F("reserved") + reserved_sign * quantity,
        damaged=F("damaged") + damaged_sign * quantity,
        below_minimum=below,
    )
    level.on_hand, level.reserved, level.damaged = on_hand, reserved, damaged
    level.below_minimum = below
    movement = StockMovement.objects.create(
        kind=kind,
        quantity=quantity,
        warehouse_id=level.warehouse_id,
        item_id=level.item_id,
        order_id=order_line.order_id if order_line else None,
        order_line_id=order_line.pk if order_line else None,
        reason=reason,
        actor_kind=actor.kind,
        actor_name=actor.name,
        actor_user=actor.user if actor.is_person else None,
        correlation_id=correlation.get(),
    )
    cause = f"{kind.value} movement #{movement.pk}"
    if (on_hand_sign - reserved_sign) * quantity > 0:
        publish_available([level], actor=actor, cause=cause)
    if crossed_down:
        _publish_below_minimum(level, actor=actor, cause=cause)
    return movement


def record_movements(
    *,
    moves: Iterable[tuple[StockLevel, MovementKind, int, OrderLineLike | None]],
    actor: Actor,
    reason: str = "",
) -> None:
    """What record_movement does for each (level, kind, quantity, order line), in a few
    statements whatever their number: the levels (which the caller holds locked) are
    written with one UPDATE and the ledger with one insert. For the many movements of
    one order (giving back what it held), so that a cancellation holds its rows briefly."""
    moves = list(moves)
    if not moves:
        return
    before: dict[int, tuple[StockLevel, bool]] = {}
    rows = []
    became_available: dict[int, StockLevel] = {}
    now = timezone.now()
    for level, kind, quantity, order_line in moves:
        before.setdefault(level.pk, (level, level.below_minimum))
        on_hand_sign, reserved_sign, _ = MOVEMENT_EFFECTS[kind]
        on_hand, reserved, damaged = _moved(level, kind, quantity)
        level.on_hand, level.reserved, level.damaged = on_hand, reserved, damaged
        if (on_hand_sign - reserved_sign) * quantity > 0:
            became_available[level.pk] = level
        rows.append(
            {
                "kind": kind.value,
                "quantity": quantity,
                "warehouse_id": level.warehouse_id,
                "item_id": level.item_id,
                "order_id": order_line.order_id if order_line else None,
                "order_line_id": order_line.pk if order_line else None,
                "reason": reason,
                "actor_kind": actor.kind.value,
                "actor_name": actor.name,
                "actor_user_id": actor.user.pk if actor.is_person and actor.user else None,
                "correlation_id": correlation.get(),
                "created_at": now,
            }
        )
    crossed = []
    for level, was_below in before.values():
        level.below_minimum = level.available < level.minimum_level
        if level.below_minimum and not was_below:
            crossed.append(level)
    StockLevel.objects.bulk_update(
        [level for level, _ in before.values()],
        ["on_hand", "reserved", "damaged", "below_minimum"],
    )
    insert_values(StockMovement, rows)
    cause = f"{len(rows)} movements: {reason}"
    publish_available(became_available.values(), actor=actor, cause=cause)
    for level in crossed:
        _publish_below_minimum(level, actor=actor, cause=cause)


def flag_minimum_crossings(level_ids: Iterable[int], *, actor: Actor, cause: str) -> None:
    """For movements written in bulk (an allocation run), what record_movement does for
    one: levels whose available stock went below their minimum are flagged, each with
    one stock.below_minimum event; levels back at or above it are cleared. In a few
    statements; the caller holds the levels locked."""
    available = F("on_hand") - F("reserved")
    for chunk in chunked(sorted(set(level_ids))):
        levels = StockLevel.objects.filter(pk__in=chunk)
        levels.filter(below_minimum=True, minimum_level__lte=available).update(below_minimum=False)
        crossed = list(
            levels.filter(below_minimum=False, minimum_level__gt=available).values_list(
                "pk", flat=True
            )
        )
        if crossed:
            StockLevel.objects.filter(pk__in=crossed).update(below_minimum=True)
            publish_below_minimum(crossed, actor=actor, cause=cause)


def publish_available(levels: Iterable[StockLevel], *, actor: Actor, cause: str) -> None:
    """One stock.available event for each of these levels, whose available stock a
    movement has just raised: orders waiting for it may now be served."""
    by_pk = {level.pk: level for level in levels}
    if not by_pk:
        return
    codes = StockLevel.objects.filter(pk__in=by_pk).values_list(
        "pk", "warehouse__code", "item__code"
    )
    outbox.publish_many(
        [
            {
                "event_type": "stock.available",
                "aggregate_type": "stock_level",
                "aggregate_id": pk,
                "payload": {
                    "warehouse": warehouse,
                    "item": item,
                    "available": by_pk[pk].available,
                    "cause": cause,
                    "actor": actor.as_payload(),
                },
            }
            for pk, warehouse, item in codes.order_by("pk")
        ]
    )


def publish_below_minimum(level_ids: Iterable[int], *, actor: Actor, cause: str) -> None:
    """One stock.below_minimum event for each of these levels, which a write in bulk
    has just taken below their minimum (and flagged)."""
    levels = StockLevel.objects.filter(pk__in=list(level_ids)).select_related("warehouse", "item")
    outbox.publish_many(
        [
            {
                "event_type": "stock.below_minimum",
                "aggregate_type": "stock_level",
                "aggregate_id": level.pk,
                "payload": _below_minimum_payload(level, actor=actor, cause=cause),
            }
            for level in levels.order_by("pk")
        ]
    )


def _publish_below_minimum(level: StockLevel, *, actor: Actor, cause: str) -> None:
    outbox.publish(
        event_type="stock.below_minimum",
        aggregate_type="stock_level",
        aggregate_id=level.pk,
        payload=_below_minimum_payload(level, actor=actor, cause=cause),
    )


def _below_minimum_payload(level: StockLevel, *, actor: Actor, cause: str) -> dict:
    return {
        "warehouse": level.warehouse.code,
        "item": level.item.code,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
        "minimum_level": level.minimum_level,
        "cause": cause,
        "actor": actor.as_payload(),
    }


def stock_set_minimum(
    *, level: StockLevel, minimum_level: int, reason: str, actor: Actor
) -> StockLevel:
    """Change the minimum level of a stock level, with a reason (kept in its history).
    A minimum raised above the available stock is a crossing like any other."""
    actor.require("warehouse.change_stocklevel", "change minimum stock levels")
    if not isinstance(minimum_level, int) or minimum_level < 0:
        raise ValidationFailed(
            "The minimum level is a whole number, 0 or more.", code="invalid_quantity"
        )
    if not reason.strip():
        raise ValidationFailed("Say why the minimum level changes.")
    with transaction.atomic():
        (level,) = lock_levels([level.pk]).values()
        if level.minimum_level == minimum_level:
            return level
        before = level.minimum_level
        below = level.available < minimum_level
        crossed_down = below and not level.below_minimum
        level.minimum_level, level.below_minimum = minimum_level, below
        with audit.acting(actor, reason=f"minimum {before} → {minimum_level}: {reason.strip()}"):
            level.save(update_fields=["minimum_level", "below_minimum", "updated_at"])
        if crossed_down:
            _publish_below_minimum(level, actor=actor, cause="minimum level raised")
        return level


def stock_receive(
    *, warehouse: Warehouse, item: Item, quantity: int, reason: str, actor: Actor
) -> StockMovement:
    """Goods arrive at a warehouse."""
    _require_stock_permission(actor)
    if quantity <= 0:
        raise ValidationFailed("A receipt adds a positive quantity.", code="invalid_quantity")
    if not reason.strip():
        raise ValidationFailed("A receipt needs a reason, such as the delivery note.")
    with transaction.atomic():
        level = stock_level_locked(warehouse=warehouse, item=item)
        return record_movement(
            level=level, kind=MovementKind.RECEIPT, quantity=quantity, actor=actor, reason=reason
        )


def stock_adjust(
    *, warehouse: Warehouse, item: Item, quantity: int, reason: str, actor: Actor
) -> StockMovement:
    """Correct on-hand stock after a count: positive adds, negative removes. Stock that
    is reserved for orders cannot be adjusted away."""
    _require_stock_permission(actor)
    if quantity == 0:
        raise ValidationFailed("An adjustment changes stock by a quantity other than 0.")
    if not reason.strip():
        raise ValidationFailed("An adjustment needs a reason.")
    with transaction.atomic():
        level = stock_level_locked(warehouse=warehouse, item=item)
        return record_movement(
            level=level, kind=MovementKind.ADJUSTMENT, quantity=quantity, actor=actor, reason=reason
        )


def return_kind(condition: Condition) -> MovementKind:
    return MovementKind.RETURN if condition == Condition.GOOD else MovementKind.RETURN_DAMAGED


def _require_stock_permission(actor: Actor) -> None:
    actor.require("warehouse.adjust_stock", "change stock levels")
