"""Demo data for `make run`: a small but complete picture of OMS at work.

Everything is made through the same services as in production, so the demo orders
have real histories, ledgers and outbox events. Loading twice changes nothing: the
data is loaded once, and the users' passwords are reset to the documented ones.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from catalog import services as catalog_services
from catalog.choices import ItemCategory, ItemLifecycle, Unit
from catalog.models import Item, Kit
from oms import audit
from oms.actors import Actor
from orders import services as order_services
from orders.choices import OrderStatus, OrderType, PlanType, ReasonCode
from orders.models import Market, Order, Project, Region
from warehouse.choices import Condition
from warehouse.models import Warehouse, WarehouseMarket
from warehouse.services import stock_receive

SEEDER = Actor.system("demo-seed")


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str  # a role group, or "superuser"
    description: str

    @property
    def password(self) -> str:
        return f"{self.username}-demo-pass"


USERS = [
    DemoUser("admin", "superuser", "superuser (Django admin)"),
    DemoUser("coordinator", "coordinator", "coordinator"),
    DemoUser("coordinator2", "coordinator", "coordinator (for the four-eyes rule)"),
    DemoUser("viewer", "viewer", "viewer (read only)"),
    DemoUser("catalog", "catalog_admin", "catalog admin"),
]

REGIONS = {"EAST": "East", "WEST": "West"}
MARKETS = {
    "NYC": ("New York", "EAST"),
    "BOS": ("Boston", "EAST"),
    "SEA": ("Seattle", "WEST"),
    "SFO": ("San Francisco", "WEST"),
}
# warehouse code -> (name, [(market, rank)])
WAREHOUSES = {
    "WH-NJ": ("Newark DC", [("NYC", 1), ("BOS", 2)]),
    "WH-MA": ("Worcester DC", [("BOS", 1), ("NYC", 2)]),
    "WH-WA": ("Kent DC", [("SEA", 1), ("SFO", 2)]),
    "WH-CA": ("Fremont DC", [("SFO", 1), ("SEA", 2)]),
}
# code, description, category, unit
ITEMS = [
    ("RRU-4449", "Remote radio unit B12/B71 4T4R", ItemCategory.RADIO, Unit.EACH),
    ("RRU-8863", "Remote radio unit B2/B66 8T8R", ItemCategory.RADIO, Unit.EACH),
    ("AIR-6449", "Massive MIMO radio n41 64T64R", ItemCategory.RADIO, Unit.EACH),
    ("BB-6630", "Baseband unit 6630", ItemCategory.RADIO, Unit.EACH),
    ("ANT-HEX-8P", "Antenna hex-port 8 ft panel", ItemCategory.ANTENNA, Unit.EACH),
    ("ANT-QUAD-6P", "Antenna quad-port 6 ft panel", ItemCategory.ANTENNA, Unit.EACH),
    ("CBL-JMP-3M", "RF jumper 1/2 in, 3 m", ItemCategory.CABLE, Unit.EACH),
    ("CBL-FIB-30M", "Fiber trunk, 30 m", ItemCategory.CABLE, Unit.EACH),
    ("CBL-DC-50M", "DC power cable 6 AWG", ItemCategory.CABLE, Unit.METER),
    ("PWR-RECT-48", "Rectifier shelf -48 V", ItemCategory.POWER, Unit.EACH),
    ("PWR-BATT-190", "Battery string 190 Ah", ItemCategory.POWER, Unit.SET),
    ("MNT-PIPE-2M", "Pipe mount 2 m", ItemCategory.MOUNTING, Unit.EACH),
    ("MNT-SECTOR", "Sector frame", ItemCategory.MOUNTING, Unit.EACH),
    ("GRD-BAR", "Ground bar kit", ItemCategory.GROUNDING, Unit.SET),
    ("CON-N-M", "N-type male connector", ItemCategory.CONNECTOR, Unit.EACH),
    ("TX-MW-80", "Microwave radio 80 GHz", ItemCategory.TRANSMISSION, Unit.EACH),
    ("ENC-OUT-40", "Outdoor cabinet 40U", ItemCategory.ENCLOSURE, Unit.EACH),
]
# Lifecycle changes: a discontinued item, and a replaced one pointing to its successor.
DISCONTINUED = ["TX-MW-80"]
REPLACED = {"ANT-QUAD-6P": "ANT-HEX-8P"}

SECTOR_KIT = ("KIT-SECTOR", "Sector kit", [("MNT-SECTOR", 1), ("CBL-JMP-3M", 6), ("CON-N-M", 12)])


def load(today: datetime.date | None = None) -> bool:
    """Load the demo data; False when it was already there."""
    today = today or timezone.localdate()
    with transaction.atomic(), audit.acting(SEEDER, reason="demo data"):
        _users()
        if Order.objects.exists():
            return False
        items = _catalog(today)
        markets = _markets()
        warehouses = _warehouses(markets)
        _stock(warehouses, items)
        projects = _projects(markets, today)
        _orders(projects, items, warehouses, today)
    return True


def _users() -> None:
    for demo in USERS:
        user, _ = User.objects.get_or_create(username=demo.username)
        user.email = f"{demo.username}@oms.example"
        user.is_active = True
        user.is_staff = True
        user.is_superuser = demo.role == "superuser"
        user.set_password(demo.password)
        user.save()
        if demo.role != "superuser":
            user.groups.set([Group.objects.get(name=demo.role)])


def _catalog(today: datetime.date) -> dict[str, Item]:
    items = {
        code: Item.objects.create(code=code, description=desc, category=category, unit=unit)
        for code, desc, category, unit in ITEMS
    }
    for code in DISCONTINUED:
        items[code].lifecycle = ItemLifecycle.DISCONTINUED
        items[code].save()
    for code, successor in REPLACED.items():
        items[code].lifecycle = ItemLifecycle.REPLACED
        items[code].replaced_by = items[successor]
        items[code].save()
    code, name, components = SECTOR_KIT
    kit = Kit.objects.create(code=code, name=name, description="Frame, jumpers, connectors")
    version = catalog_services.kit_version_draft(
        kit=kit, effective_from=today - datetime.timedelta(days=90), actor=SEEDER
    )
    catalog_services.kit_version_set_components(
        version=version, components=[(items[c], q) for c, q in components], actor=SEEDER
    )
    catalog_services.kit_version_publish(version=version, actor=SEEDER)
    return items


def _markets() -> dict[str, Market]:
    regions = {code: Region.objects.create(code=code, name=name) for code, name in REGIONS.items()}
    return {
        code: Market.objects.create(code=code, name=name, region=regions[region])
        for code, (name, region) in MARKETS.items()
    }


def _warehouses(markets: dict[str, Market]) -> dict[str, Warehouse]:
    warehouses = {}
    for code, (name, served) in WAREHOUSES.items():
        warehouse = Warehouse.objects.create(code=code, name=name)
        for market, rank in served:
            WarehouseMarket.objects.create(warehouse=warehouse, market=markets[market], rank=rank)
        warehouses[code] = warehouse
    return warehouses


def _stock(warehouses: dict[str, Warehouse], items: dict[str, Item]) -> None:
    rng = random.Random(7)
    for warehouse in warehouses.values():
        for item in items.values():
            if not item.is_active:
                continue
            scarce = item.category == ItemCategory.RADIO
            stock_receive(
                warehouse=warehouse,
                item=item,
                quantity=rng.randint(4, 12) if scarce else rng.randint(40, 200),
                reason="opening stock (demo)",
                actor=SEEDER,
            )


def _projects(markets: dict[str, Market], today: datetime.date) -> list[Project]:
    rng = random.Random(11)
    projects = []
    for n in range(1, 25):
        market = list(markets.values())[n % len(markets)]
        started = today - datetime.timedelta(days=rng.randint(60, 200))
        projects.append(
            Project.objects.create(
                external_id=f"PRJ-{2026000 + n}",
                name=f"{market.name} site {n}",
                site_code=f"{market.code}{n:04d}",
                market=market,
                latitude=round(rng.uniform(25, 48), 6),
                longitude=round(rng.uniform(-122, -71), 6),
                plan_type=rng.choice(PlanType.values),
                site_acquired_on=started,
                design_complete_on=started + datetime.timedelta(days=30),
                permits_approved_on=(started + datetime.timedelta(days=45)) if n % 3 else None,
            )
        )
    return projects


# The status each demo order is driven to, in order of the projects.
STORY = [
    OrderStatus.DRAFT,
    OrderStatus.DRAFT,
    OrderStatus.DRAFT,
    "rejected",
    OrderStatus.DRAFT,
    OrderStatus.APPROVED,
    OrderStatus.APPROVED,
    OrderStatus.APPROVED,
    OrderStatus.ALLOCATED,
    OrderStatus.ALLOCATED,
    OrderStatus.RELEASED,
    OrderStatus.RELEASED,
    OrderStatus.CLOSED,
    OrderStatus.CLOSED,
    OrderStatus.PARTIALLY_RETURNED,
    OrderStatus.FULLY_RETURNED,
    OrderStatus.CANCELLED,
    OrderStatus.DRAFT,
    OrderStatus.APPROVED,
    OrderStatus.DRAFT,
]


def _orders(projects, items, warehouses, today) -> None:
    rng = random.Random(3)
    active = [item for item in items.values() if item.is_active]
    kit = Kit.objects.get(code=SECTOR_KIT[0])
    kit_version = kit.versions.get()
    for project, target in zip(projects, STORY, strict=False):
        chosen = rng.sample(active, rng.randint(2, 5))
        lines = [order_services.LineSpec(item=item, quantity=rng.randint(1, 3)) for item in chosen]
        if target == OrderStatus.DRAFT and rng.random() < 0.5:
            lines += [
                order_services.LineSpec(item=c.item, quantity=c.quantity * 3, source="kit", kit=kit)
                for c in kit_version.components.select_related("item")
                if c.item not in chosen
            ]
        order = order_services.order_create(
            project=project,
            order_type=rng.choice(OrderType.values),
            plan_type=project.plan_type,
            national_priority=rng.randint(1, 5),
            need_by=today + datetime.timedelta(days=rng.randint(-5, 60)),
            lines=lines,
            actor=SEEDER,
            event_id=f"demo-{project.external_id}",
        )
        _drive(order, target, warehouses, project)


def _drive(order: Order, target: str, warehouses, project: Project) -> None:
    if target == OrderStatus.DRAFT:
        return
    if target == OrderStatus.CANCELLED:
        order_services.order_cancel(
            order=order,
            actor=SEEDER,
            reason_code=ReasonCode.NO_LONGER_NEEDED,
            reason_text="Site dropped from this year's plan.",
        )
        return
    order = order_services.order_approve(order=order, actor=SEEDER)
    if target == "rejected":
        order_services.order_reject(
            order=order,
            actor=SEEDER,
            reason_code=ReasonCode.DATA_MISMATCH,
            reason_text="Antenna count does not match the site survey.",
        )
        return
    if target == OrderStatus.APPROVED:
        return
    warehouse = (
        WarehouseMarket.objects.filter(market=project.market).order_by("rank").first().warehouse
    )
    order = order_services.order_allocate(order=order, warehouse=warehouse, actor=SEEDER)
    if target == OrderStatus.ALLOCATED:
        return
    order = order_services.order_release(order=order, actor=SEEDER)
    if target == OrderStatus.RELEASED:
        return
    order = order_services.order_complete(order=order, actor=SEEDER)
    if target == OrderStatus.CLOSED:
        return
    lines = list(order.lines.all())
    returned = lines if target == OrderStatus.FULLY_RETURNED else lines[:1]
    order_services.order_record_return(
        order=order,
        warehouse=warehouse,
        lines=[
            order_services.ReturnSpec(
                line=line,
                quantity=line.released_quantity if target == OrderStatus.FULLY_RETURNED else 1,
                condition=Condition.GOOD if n else Condition.DAMAGED,
                reason="Site scope reduced" if n else "Damaged in transit",
            )
            for n, line in enumerate(returned)
        ],
        actor=SEEDER,
        external_id=f"demo-return-{order.number}",
    )
