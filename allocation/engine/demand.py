"""What the engine reads: the approved orders with what their lines still need, the
items, which warehouses serve which market, and the stock. A few set-based queries,
whatever the number of orders; plain tuples and small records, no model instances."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction

from catalog.models import Item
from orders.choices import OrderStatus
from orders.models import Market, Order, OrderLine
from warehouse.ledger.models import StockLevel, Warehouse, WarehouseMarket


@dataclass(slots=True)
class OrderDemand:
    """An approved order as the engine ranks and serves it. `lines` holds
    (line id, item id, quantity still needed) for the lines that need something."""

    id: int
    number: str
    version: int
    national_priority: int
    plan_type: str
    order_type: str
    need_by: datetime.date
    approved_at: datetime.datetime | None
    market_id: int
    gated: bool = False
    gate_reason: str = ""
    lines: list[tuple[int, int, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ItemInfo:
    code: str
    description: str
    lifecycle: str
    successor: str = ""


@dataclass
class Demand:
    orders: list[OrderDemand]
    items: dict[int, ItemInfo]
    serving: dict[int, list[int]]  # market id -> active warehouse ids, rank 1 first
    warehouses: dict[int, str]  # warehouse id -> code
    markets: dict[int, str]  # market id -> code


@dataclass
class Stock:
    """Stock levels of the items in demand: (warehouse id, item id) -> level id, and
    each level's available quantity (on hand - reserved)."""

    levels: dict[tuple[int, int], int]
    available: dict[int, int]

    @property
    def stocked_items(self) -> set[int]:
        return {item for _, item in self.levels}


ORDER_COLUMNS = (
    "id",
    "number",
    "version",
    "national_priority",
    "plan_type",
    "order_type",
    "need_by",
    "approved_at",
    "project__market_id",
    "gated",
    "gate_reason",
)


@contextmanager
def snapshot() -> Iterator[None]:
    """The reads in the block see the database at one moment, without locks: on
    PostgreSQL a REPEATABLE READ, READ ONLY transaction (inside a caller's transaction,
    that one)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def load_demand() -> Demand:
    """Every APPROVED order (gated ones too, to report them), the lines of those not
    gated, and the reference data the engine needs."""
    orders = {
        row[0]: OrderDemand(*row)
        for row in Order.objects.filter(status=OrderStatus.APPROVED)
        .order_by()
        .values_list(*ORDER_COLUMNS)
    }
    lines = (
        OrderLine.objects.filter(order__status=OrderStatus.APPROVED, order__gated=False)
        .order_by()
        .values_list(
            "order_id",
            "id",
            "item_id",
            "quantity",
            "released_quantity",
            "returned_quantity",
            "allocated_quantity",
        )
    )
    item_ids = set()
    # Read with the database's cursor (server-side on PostgreSQL, as iterator() would):
    # Django's per-row work would be a good part of the read, for about a million plain
    # rows of integers.
    sql, params = lines.query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20_000):
            for order_id, line_id, item_id, quantity, released, returned, allocated in rows:
                order = orders.get(order_id)
                needed = quantity - (released - returned) - allocated
                if order is None or needed <= 0:  # approved after the orders were read
                    continue
                order.lines.append((line_id, item_id, needed))
                item_ids.add(item_id)
    for order in orders.values():
        order.lines.sort()
    return Demand(
        orders=list(orders.values()),
        items=load_items(item_ids),
        serving=load_serving(),
        warehouses=dict(Warehouse.objects.values_list("id", "code")),
        markets=dict(Market.objects.values_list("id", "code")),
    )


def load_items(item_ids: Iterable[int]) -> dict[int, ItemInfo]:
    rows = Item.objects.filter(pk__in=item_ids).values_list(
        "id", "code", "description", "lifecycle", "replaced_by__code"
    )
    return {
        pk: ItemInfo(code, description, lifecycle, successor or "")
        for pk, code, description, lifecycle, successor in rows
    }


def load_serving() -> dict[int, list[int]]:
    serving: dict[int, list[int]] = defaultdict(list)
    rows = (
        WarehouseMarket.objects.filter(warehouse__active=True)
        .order_by("market_id", "rank", "warehouse_id")
        .values_list("market_id", "warehouse_id")
    )
    for market_id, warehouse_id in rows:
        serving[market_id].append(warehouse_id)
    return dict(serving)


def load_stock(item_ids: Iterable[int]) -> Stock:
    """The stock levels of these items in every warehouse, without locks."""
    levels = StockLevel.objects.filter(item_id__in=set(item_ids)).order_by("pk")
    keys, available = {}, {}
    for pk, warehouse_id, item_id, on_hand, reserved in levels.values_list(
        "id", "warehouse_id", "item_id", "on_hand", "reserved"
    ):
        keys[(warehouse_id, item_id)] = pk
        available[pk] = on_hand - reserved
    return Stock(keys, available)
