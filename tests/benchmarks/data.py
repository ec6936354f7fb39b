"""Benchmark data: orders with about three lines each over a few hundred projects, made
with bulk_create (no history rows). The same seed gives the same data."""

import datetime
import random

from django.db import connection, transaction

from catalog.choices import ItemCategory
from catalog.models import Item
from oms import audit
from oms.actors import Actor
from orders.choices import OrderStatus, OrderType, PlanType
from orders.models import Market, Order, OrderLine, Project, Region, order_number

LOADER = Actor.system("bench")
REGIONS = ["EAST", "WEST", "SOUTH", "CENTRAL"]
MARKETS_PER_REGION = 3
PROJECTS = 300
ITEMS = 60
LINES_PER_ORDER = (2, 3, 4)
# Most orders are done or in flight; a few wait for review or were cancelled.
STATUS_WEIGHTS = {
    OrderStatus.DRAFT: 10,
    OrderStatus.APPROVED: 10,
    OrderStatus.ALLOCATED: 10,
    OrderStatus.RELEASED: 15,
    OrderStatus.CLOSED: 40,
    OrderStatus.PARTIALLY_RETURNED: 5,
    OrderStatus.FULLY_RETURNED: 3,
    OrderStatus.CANCELLED: 7,
}
BATCH = 2000


def load(orders: int, seed: int = 42) -> None:
    rng = random.Random(seed)
    with transaction.atomic(), audit.acting(LOADER, reason="benchmark data"):
        regions = Region.objects.bulk_create(
            Region(code=code, name=code.title()) for code in REGIONS
        )
        markets = Market.objects.bulk_create(
            Market(code=f"{region.code[:3]}{n}", name=f"{region.name} {n}", region=region)
            for region in regions
            for n in range(1, MARKETS_PER_REGION + 1)
        )
        projects = Project.objects.bulk_create(
            Project(
                external_id=f"PRJ-{n:05d}",
                name=f"Site build {n}",
                site_code=f"SITE{n:05d}",
                market=rng.choice(markets),
                plan_type=rng.choice(PlanType.values),
            )
            for n in range(1, PROJECTS + 1)
        )
        items = Item.objects.bulk_create(
            Item(
                code=f"ITM-{n:05d}",
                description=f"Benchmark item {n}",
                category=rng.choice(ItemCategory.values),
            )
            for n in range(1, ITEMS + 1)
        )
        statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
        today = datetime.date.today()
        made = Order.objects.bulk_create(
            (
                Order(
                    number=order_number(n),
                    project=(project := rng.choice(projects)),
                    order_type=rng.choice(OrderType.values),
                    plan_type=project.plan_type,
                    national_priority=rng.randint(1, 5),
                    need_by=today + datetime.timedelta(days=rng.randint(-90, 180)),
                    status=rng.choices(statuses, weights)[0],
                )
                for n in range(1, orders + 1)
            ),
            batch_size=BATCH,
        )
        OrderLine.objects.bulk_create(
            (
                OrderLine(order=order, item=item, quantity=rng.randint(1, 12))
                for order in made
                for item in rng.sample(items, rng.choice(LINES_PER_ORDER))
            ),
            batch_size=BATCH,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
