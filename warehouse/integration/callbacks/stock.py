"""Stock the warehouse reports: receipts and adjustments."""

from __future__ import annotations

from catalog.models import Item
from oms.actors import Actor
from oms.errors import Problem, ValidationFailed
from warehouse.integration.callbacks.receipts import Answer, Effect, receive
from warehouse.integration.choices import CallbackKind
from warehouse.ledger import services as stock_services
from warehouse.ledger.models import StockLevel, Warehouse


def stock_reported(
    *,
    kind: CallbackKind,
    event_id: str,
    warehouse_code: str,
    item_code: str,
    quantity: int,
    reason: str,
    actor: Actor,
) -> Answer:
    """A receipt (goods arrived) or an adjustment (after a count) at a warehouse."""
    change = (
        stock_services.stock_receive
        if kind == CallbackKind.STOCK_RECEIVED
        else stock_services.stock_adjust
    )

    def apply() -> Effect:
        warehouse = Warehouse.objects.filter(code=warehouse_code).first()
        item = Item.objects.filter(code=item_code).first()
        problems = []
        if warehouse is None:
            problems.append(Problem("unknown", f"No warehouse {warehouse_code}.", "warehouse"))
        if item is None:
            problems.append(Problem("unknown", f"No item {item_code}.", "item"))
        if problems:
            raise ValidationFailed("The stock report names unknown things.", problems=problems)
        movement = change(
            warehouse=warehouse, item=item, quantity=quantity, reason=reason, actor=actor
        )
        level = StockLevel.objects.get(warehouse=warehouse, item=item)
        stock = {
            "warehouse": warehouse.code,
            "item": item.code,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.available,
        }
        return Effect(
            "received" if kind == CallbackKind.STOCK_RECEIVED else "adjusted",
            warehouse=warehouse,
            extra={"movement_id": movement.pk, "stock": stock},
        )

    return receive(
        event_id=event_id,
        kind=kind,
        content={
            "warehouse": warehouse_code,
            "item": item_code,
            "quantity": quantity,
            "reason": reason,
        },
        actor=actor,
        apply=apply,
    )
