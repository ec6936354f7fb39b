"""The demo's reference data: users, the catalog with kits, markets, warehouses with
opening stock and minimum levels, and projects."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.models import Group, User

from catalog import services as catalog_services
from catalog.choices import ItemLifecycle
from catalog.models import Item, Kit
from oms.roles import STAFF_ROLES
from oms.shell.demo.data import (
    DISCONTINUED,
    FAMILIES,
    KITS,
    MARKETS,
    PROJECT_COUNT,
    REGIONS,
    REPLACED,
    SCARCE_CATEGORIES,
    SEEDER,
    USERS,
    WAREHOUSES,
)
from orders.choices import PlanType
from orders.models import Market, Project, Region
from warehouse.ledger.models import StockLevel, Warehouse, WarehouseMarket
from warehouse.ledger.services import stock_receive, stock_set_minimum


def users() -> None:
    for demo in USERS:
        user, _ = User.objects.get_or_create(username=demo.username)
        user.email = f"{demo.username}@oms.example"
        user.is_active = True
        user.is_superuser = demo.role == "superuser"
        user.is_staff = user.is_superuser or demo.role in STAFF_ROLES
        user.set_password(demo.password)
        user.save()
        if demo.role != "superuser":
            user.groups.set([Group.objects.get(name=demo.role)])


def catalog(today: datetime.date) -> dict[str, Item]:
    items = {}
    for category, prefix, description, variants, unit in FAMILIES:
        for n, variant in enumerate(variants, start=1):
            code = f"{prefix}-{n:02d}"
            items[code] = Item(
                code=code, description=description.format(v=variant), category=category, unit=unit
            )
    for item in items.values():
        item.save()
    for code in DISCONTINUED:
        items[code].lifecycle = ItemLifecycle.DISCONTINUED
        items[code].save()
    for code, successor in REPLACED.items():
        items[code].lifecycle = ItemLifecycle.REPLACED
        items[code].replaced_by = items[successor]
        items[code].save()
    for code, name, components in KITS:
        kit = Kit.objects.create(code=code, name=name)
        version = catalog_services.kit_version_draft(
            kit=kit, effective_from=today - datetime.timedelta(days=180), actor=SEEDER
        )
        catalog_services.kit_version_set_components(
            version=version, components=[(items[c], q) for c, q in components], actor=SEEDER
        )
        catalog_services.kit_version_publish(version=version, actor=SEEDER)
    return items


def markets() -> dict[str, Market]:
    regions = {code: Region.objects.create(code=code, name=name) for code, name in REGIONS.items()}
    return {
        code: Market.objects.create(code=code, name=name, region=regions[region])
        for code, (name, region) in MARKETS.items()
    }


def warehouses(markets: dict[str, Market]) -> dict[str, Warehouse]:
    warehouses = {}
    for code, (name, served) in WAREHOUSES.items():
        warehouse = Warehouse.objects.create(code=code, name=name)
        for market, rank in served:
            WarehouseMarket.objects.create(warehouse=warehouse, market=markets[market], rank=rank)
        warehouses[code] = warehouse
    return warehouses


def stock(warehouses: dict[str, Warehouse], items: dict[str, Item]) -> None:
    rng = random.Random(7)
    for warehouse in warehouses.values():
        for item in items.values():
            if not item.is_active:
                continue
            scarce = item.category in SCARCE_CATEGORIES
            quantity = rng.randint(0, 6) if scarce else rng.randint(30, 250)
            if quantity:
                stock_receive(
                    warehouse=warehouse,
                    item=item,
                    quantity=quantity,
                    reason="opening stock (demo)",
                    actor=SEEDER,
                )


def minimum_levels() -> None:
    """Minimum levels the demo orders will take some levels below (stock.below_minimum)."""
    for level in StockLevel.objects.select_related("item").order_by("pk"):
        scarce = level.item.category in SCARCE_CATEGORIES
        stock_set_minimum(
            level=level,
            minimum_level=2 if scarce else 40,
            reason="demo safety stock",
            actor=SEEDER,
        )


def projects(markets: dict[str, Market], today: datetime.date) -> list[Project]:
    rng = random.Random(11)
    projects = []
    for n in range(1, PROJECT_COUNT + 1):
        market = list(markets.values())[n % len(markets)]
        started = today - datetime.timedelta(days=rng.randint(60, 300))
        reached = rng.randint(2, 6)  # how many milestones the project has reached
        dates = [started + datetime.timedelta(days=30 * step) for step in range(6)]
        dates = [d if i < reached and d <= today else None for i, d in enumerate(dates)]
        projects.append(
            Project.objects.create(
                external_id=f"PRJ-{2026000 + n}",
                name=f"{market.name} {rng.choice(['North', 'South', 'Harbor', 'Hill', 'Park'])}"
                f" {n}",
                site_code=f"{market.code}{n:04d}",
                market=market,
                latitude=round(rng.uniform(40, 48), 6),
                longitude=round(rng.uniform(-123, -71), 6),
                plan_type=rng.choice(PlanType.values),
                site_acquired_on=dates[0],
                design_complete_on=dates[1],
                permits_approved_on=dates[2],
                notice_to_proceed_on=dates[3],
                construction_start_on=dates[4],
                on_air_on=dates[5],
            )
        )
    return projects
