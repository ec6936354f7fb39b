"""Reads for stock: the inventory list, the ledger behind each of its numbers, and
what a level's reserved stock is held for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, F, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from warehouse.ledger.choices import MOVEMENT_EFFECTS
from warehouse.ledger.models import Allocation, StockLevel, StockMovement

# The numbers of a stock level that the ledger explains, and how one unit of each
# movement kind changes them (available = on hand - reserved).
LEDGER_FIELDS = {
    "on_hand": ("On hand", lambda e: e[0]),
    "reserved": ("Reserved", lambda e: e[1]),
    "available": ("Available", lambda e: e[0] - e[1]),
    "damaged": ("Damaged", lambda e: e[2]),
}


def effect(field: str, kind: str) -> int:
    return LEDGER_FIELDS[field][1](MOVEMENT_EFFECTS[kind])


def effect_expression(field: str) -> Case:
    """quantity x the movement's effect on the field, for SUM()."""
    return Case(
        *[
            When(kind=kind, then=F("quantity") * effect(field, kind))
            for kind in MOVEMENT_EFFECTS
            if effect(field, kind)
        ],
        default=Value(0),
        output_field=IntegerField(),
    )


def stock_list() -> QuerySet[StockLevel]:
    """Stock levels for the inventory page and the API, by warehouse and item."""
    return StockLevel.objects.select_related("warehouse", "item").order_by(
        "warehouse__code", "item__code"
    )


def level_movements(level: StockLevel, field: str) -> QuerySet[StockMovement]:
    """The movements of a level that change the field, newest first."""
    kinds = [kind for kind in MOVEMENT_EFFECTS if effect(field, kind)]
    return (
        StockMovement.objects.filter(warehouse_id=level.warehouse_id, item_id=level.item_id)
        .filter(kind__in=kinds)
        .select_related("order")
        .order_by("-id")
    )


@dataclass(frozen=True)
class LedgerRow:
    movement: StockMovement
    change: int  # what it did to the field
    balance: int  # the field after it


def ledger_page(
    level: StockLevel, field: str, movements: Sequence[StockMovement]
) -> tuple[int, list[LedgerRow]]:
    """The ledger total of the field and one page of movements (newest first) with the
    running balance after each: two aggregate queries, whatever the page."""
    total = _sum(level_movements(level, field), field)
    rows = []
    if movements:
        newer = _sum(level_movements(level, field).filter(id__gt=movements[0].pk), field)
        balance = total - newer
        for movement in movements:
            change = effect(field, movement.kind) * movement.quantity
            rows.append(LedgerRow(movement, change, balance))
            balance -= change
    return total, rows


def _sum(queryset: QuerySet[StockMovement], field: str) -> int:
    return queryset.order_by().aggregate(total=Coalesce(Sum(effect_expression(field)), Value(0)))[
        "total"
    ]


def active_allocations(level: StockLevel) -> QuerySet[Allocation]:
    """What the level's reserved stock is held for."""
    return (
        Allocation.objects.filter(stock_level=level, status=Allocation.Status.ACTIVE)
        .select_related("order_line__order", "order_line__item")
        .order_by("created_at", "pk")
    )


def minimum_history(level: StockLevel) -> QuerySet[Any]:
    """Changes of the level's minimum, newest first (the history keeps nothing else)."""
    return level.history.select_related("history_user").order_by("-history_date", "-history_id")
