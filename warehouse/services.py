"""The stock ledger: every change to a stock level is a movement.

Counters change through F() expressions on rows the caller has locked, so two writers
never lose each other's updates, and CHECK constraints make negative or over-reserved
stock impossible even for a bug. Locks are taken in primary-key order.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F

from catalog.models import Item
from oms import correlation
from oms.actors import Actor
from oms.errors import ActionForbidden, InsufficientStock, ValidationFailed
from warehouse.choices import MOVEMENT_EFFECTS, Condition, MovementKind
from warehouse.models import StockLevel, StockMovement, Warehouse


def lock_stock_levels(ids: Iterable[int]) -> dict[int, StockLevel]:
    """Lock stock levels in primary-key order and return them by id."""
    levels = StockLevel.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")
    return {level.pk: level for level in levels}


def stock_level_locked(*, warehouse: Warehouse, item: Item) -> StockLevel:
    """The locked stock level of an item in a warehouse, created empty if missing."""
    StockLevel.objects.get_or_create(warehouse=warehouse, item=item)
    return StockLevel.objects.select_for_update().get(warehouse=warehouse, item=item)


def record_movement(
    *,
    level: StockLevel,
    kind: MovementKind,
    quantity: int,
    actor: Actor,
    order_line=None,
    reason: str = "",
) -> StockMovement:
    """Apply one movement to a stock level the caller holds locked, and write it to the
    ledger. Refuses a movement that would leave the level inconsistent."""
    on_hand_sign, reserved_sign, damaged_sign = MOVEMENT_EFFECTS[kind]
    on_hand = level.on_hand + on_hand_sign * quantity
    reserved = level.reserved + reserved_sign * quantity
    damaged = level.damaged + damaged_sign * quantity
    if on_hand < 0 or reserved < 0 or reserved > on_hand or damaged < 0:
        raise InsufficientStock(
            f"{kind.label} of {quantity} {level.item.code} at {level.warehouse.code} would leave "
            f"on hand {on_hand}, reserved {reserved}: only {level.available} available."
        )
    StockLevel.objects.filter(pk=level.pk).update(
        on_hand=F("on_hand") + on_hand_sign * quantity,
        reserved=F("reserved") + reserved_sign * quantity,
        damaged=F("damaged") + damaged_sign * quantity,
    )
    level.on_hand, level.reserved, level.damaged = on_hand, reserved, damaged
    return StockMovement.objects.create(
        kind=kind,
        quantity=quantity,
        warehouse_id=level.warehouse_id,
        item_id=level.item_id,
        order_line=order_line,
        reason=reason,
        actor_kind=actor.kind,
        actor_name=actor.name,
        actor_user=actor.user if actor.is_person else None,
        correlation_id=correlation.get(),
    )


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
    if not actor.has_perm("warehouse.adjust_stock"):
        raise ActionForbidden(f"{actor} may not change stock levels.")
