"""Many RELEASED orders written in bulk, as release_order leaves them: orders, lines,
allocations, stock received and reserved (with its movements), `order.released` outbox
events and the releases made from them. For the fault tests, where going through the services
order by order would take most of the test's time."""

from __future__ import annotations

import datetime
import random

from django.db import transaction

from oms import counters
from oms.models import OutboxEvent
from orders.choices import OrderStatus, OrderType, PlanType
from orders.models import Order, OrderLine, order_number
from tests.factories import SETUP, ItemFactory, ProjectFactory, WarehouseFactory
from warehouse.integration.models import Release
from warehouse.integration.releases import release_id
from warehouse.ledger.choices import MovementKind
from warehouse.ledger.models import Allocation, StockLevel, StockMovement


def released_orders(count: int, *, items: int = 12, seed: int = 5) -> list[Order]:
    rng = random.Random(seed)
    warehouse = WarehouseFactory()
    catalog = [ItemFactory() for _ in range(items)]
    projects = [ProjectFactory() for _ in range(max(count // 100, 1))]
    numbers = counters.take("order", count)
    with transaction.atomic():
        orders = Order.objects.bulk_create(
            [
                Order(
                    number=order_number(number),
                    project=projects[n % len(projects)],
                    order_type=OrderType.RADIO,
                    plan_type=PlanType.NEW_BUILD,
                    need_by=datetime.date(2026, 12, 31),
                    status=OrderStatus.RELEASED,
                )
                for n, number in enumerate(numbers)
            ]
        )
        lines = OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    item=item,
                    quantity=quantity,
                    allocated_quantity=quantity,
                )
                for order in orders
                for item in rng.sample(catalog, rng.randint(1, 3))
                for quantity in [rng.randint(1, 5)]
            ]
        )
        needed = {item.pk: 0 for item in catalog}
        for line in lines:
            needed[line.item_id] += line.quantity
        levels = {
            level.item_id: level
            for level in StockLevel.objects.bulk_create(
                [
                    StockLevel(
                        warehouse=warehouse,
                        item=item,
                        on_hand=needed[item.pk] + 50,
                        reserved=needed[item.pk],
                    )
                    for item in catalog
                ]
            )
        }
        actor = {"actor_kind": SETUP.kind, "actor_name": SETUP.name}
        StockMovement.objects.bulk_create(
            [
                StockMovement(
                    kind=MovementKind.RECEIPT,
                    quantity=levels[item.pk].on_hand,
                    warehouse=warehouse,
                    item=item,
                    reason="opening stock",
                    **actor,
                )
                for item in catalog
            ]
            + [
                StockMovement(
                    kind=MovementKind.RESERVE,
                    quantity=line.quantity,
                    warehouse=warehouse,
                    item_id=line.item_id,
                    order_line=line,
                    **actor,
                )
                for line in lines
            ]
        )
        Allocation.objects.bulk_create(
            [
                Allocation(
                    order_line=line, stock_level=levels[line.item_id], quantity=line.quantity
                )
                for line in lines
            ]
        )
        codes = {item.pk: item.code for item in catalog}
        by_order: dict[int, list[dict]] = {}
        for line in lines:
            by_order.setdefault(line.order_id, []).append(
                {"item": codes[line.item_id], "quantity": line.quantity}
            )
        events = OutboxEvent.objects.bulk_create(
            [
                OutboxEvent(
                    event_type="order.released",
                    aggregate_type="order",
                    aggregate_id=str(order.pk),
                    payload={
                        "number": order.number,
                        "from": OrderStatus.ALLOCATED,
                        "to": OrderStatus.RELEASED,
                        "releases": [{"warehouse": warehouse.code, "lines": by_order[order.pk]}],
                    },
                    correlation_id=f"bulk-{order.number}",
                )
                for order in orders
            ]
        )
        # As release_order makes them: one per event, its id derived from the event's.
        Release.objects.bulk_create(
            [
                Release(
                    release_id=release_id(event, warehouse.code),
                    order_id=int(event.aggregate_id),
                    warehouse=warehouse,
                    lines=event.payload["releases"][0]["lines"],
                )
                for event in events
            ]
        )
    return orders
