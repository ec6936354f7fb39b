"""Reads for stock and releases: the inventory list, the ledger behind each of its
numbers, and an order's releases with their warehouse's circuit."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, F, IntegerField, Prefetch, Sum, Value, When
from django.db.models.functions import Coalesce

from allocation.models import Allocation
from warehouse.breaker import Breaker, State
from warehouse.choices import MOVEMENT_EFFECTS, ReleaseStatus
from warehouse.delivery import Delivery, release_delivery
from warehouse.models import Release, StockLevel, StockMovement

# Releases still on their way to, or in the hands of, the warehouse.
OPEN_RELEASE_STATUSES = [ReleaseStatus.REQUESTED, ReleaseStatus.ACCEPTED]

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


def effect_expression(field: str):
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


def stock_list():
    """Stock levels for the inventory page and the API, by warehouse and item."""
    return StockLevel.objects.select_related("warehouse", "item").order_by(
        "warehouse__code", "item__code"
    )


def level_movements(level: StockLevel, field: str):
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


def ledger_page(level: StockLevel, field: str, movements) -> tuple[int, list[LedgerRow]]:
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


def _sum(queryset, field: str) -> int:
    return queryset.order_by().aggregate(total=Coalesce(Sum(effect_expression(field)), Value(0)))[
        "total"
    ]


def active_allocations(level: StockLevel):
    """What the level's reserved stock is held for."""
    return (
        Allocation.objects.filter(stock_level=level, status=Allocation.Status.ACTIVE)
        .select_related("order_line__order", "order_line__item")
        .order_by("created_at", "pk")
    )


def minimum_history(level: StockLevel):
    """Changes of the level's minimum, newest first (the history keeps nothing else)."""
    return level.history.select_related("history_user").order_by("-history_date", "-history_id")


@dataclass(frozen=True)
class ReleaseView:
    """A release as the order page shows it, with its warehouse's circuit."""

    release: Release
    circuit: State
    requested: list[dict]  # [{"item", "quantity", "shipped", "short"}]
    delivery: Delivery

    @property
    def paused(self) -> bool:
        """Calls to the warehouse are paused (its circuit is open) while this release
        waits to be delivered."""
        return self.circuit != State.CLOSED and self.release.is_waiting_for_delivery


def order_releases(order) -> list[ReleaseView]:
    """The order's releases, oldest first (one query; the circuits from the cache)."""
    releases = list(order.releases.select_related("warehouse").order_by("created_at", "pk"))
    circuits = {code: Breaker(code).state()[0] for code in {r.warehouse.code for r in releases}}
    return [
        ReleaseView(
            release=release,
            circuit=circuits[release.warehouse.code],
            requested=[_requested(line, release.shipped) for line in release.lines],
            delivery=release_delivery(release),
        )
        for release in releases
    ]


def open_releases(order) -> list[Release]:
    """The order's releases still on their way to, or in the hands of, the warehouse."""
    return list(
        Release.objects.filter(order_id=order.pk, status__in=OPEN_RELEASE_STATUSES)
        .select_related("warehouse")
        .order_by("created_at", "pk")
    )


def open_releases_prefetch() -> Prefetch:
    """For a list of orders: each order's open releases as `open_releases` (one query
    for the whole list)."""
    return Prefetch(
        "releases",
        queryset=Release.objects.filter(status__in=OPEN_RELEASE_STATUSES)
        .select_related("warehouse")
        .order_by("created_at", "pk"),
        to_attr="open_releases",
    )


def _requested(line: dict, shipped_by_item: dict) -> dict:
    shipped = shipped_by_item.get(line["item"])
    short = line["quantity"] - shipped if shipped is not None else 0
    return {**line, "shipped": shipped, "short": short}


def unanswered_releases():
    """Releases the warehouse took and never answered, after OMS asked as often as it
    does: for a person to follow up. Oldest first."""
    return (
        Release.objects.filter(
            status=ReleaseStatus.REQUESTED, sent_at__isnull=False, unanswered_at__isnull=False
        )
        .select_related("order", "warehouse")
        .order_by("sent_at", "pk")
    )


def undelivered_releases():
    """Releases OMS stopped trying to deliver: for a person to send again. Oldest
    first."""
    return (
        Release.objects.filter(
            status=ReleaseStatus.REQUESTED, sent_at__isnull=True, delivery_failed_at__isnull=False
        )
        .select_related("order", "warehouse")
        .order_by("delivery_failed_at", "pk")
    )
