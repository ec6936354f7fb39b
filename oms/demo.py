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

from allocation import services as allocation_services
from allocation.choices import Trigger
from catalog import services as catalog_services
from catalog.choices import ItemCategory, ItemLifecycle, Unit
from catalog.models import Item, Kit
from oms import audit
from oms.actors import Actor
from oms.errors import InsufficientStock
from oms.scopes import Scope, client_permissions
from orders import gates, ingestion
from orders import services as order_services
from orders.choices import OrderStatus, OrderType, PlanType, ReasonCode
from orders.models import Market, Order, Project, Region
from warehouse import callbacks
from warehouse.choices import Condition
from warehouse.models import StockLevel, Warehouse, WarehouseMarket
from warehouse.services import stock_receive, stock_set_minimum

# Approved orders that the demo's allocation run sends back to draft, one per kind of
# configuration mismatch: (project market, new item (code, description, lifecycle after
# approval, warehouses stocking it)).
MISMATCHES = [
    ("ANC", ("RRU-09", "Remote radio unit B66 4T4R rev B", ItemLifecycle.ACTIVE, ["WH-WA"])),
    ("NYC", ("ANT-11", "Panel antenna legacy 8 ft", ItemLifecycle.DISCONTINUED, ["WH-NJ"])),
    ("NYC", ("SC-05", "Small cell radio n77 prototype", ItemLifecycle.ACTIVE, [])),
    ("BOS", ("TX-11", "Transmission microwave 6 GHz", ItemLifecycle.ACTIVE, ["WH-WA"])),
]

SEEDER = Actor.system("demo-seed")
DEMO_WAREHOUSE = Actor.client(
    "warehouse-simulator", permissions=client_permissions([Scope.WAREHOUSE_WRITE])
)


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
}
# warehouse code -> (name, [(market, rank)])
WAREHOUSES = {
    "WH-NJ": ("Newark DC", [("NYC", 1), ("BOS", 2)]),
    "WH-MA": ("Worcester DC", [("BOS", 1), ("NYC", 2)]),
    "WH-WA": ("Kent DC", [("SEA", 1)]),
    "WH-OR": ("Portland DC", [("SEA", 2)]),
}

# Item families per category: (code prefix, description, variants, unit).
FAMILIES = [
    (
        ItemCategory.RADIO,
        "RRU",
        "Remote radio unit {v}",
        [
            "B2/B66 4T4R",
            "B12/B71 4T4R",
            "B25 8T8R",
            "B41 8T8R",
            "B5 2T2R",
            "B14 4T4R",
            "B29 2T2R",
            "B48 4T4R",
        ],
        Unit.EACH,
    ),
    (
        ItemCategory.RADIO,
        "AIR",
        "Massive MIMO radio {v}",
        ["n41 64T64R", "n77 32T32R", "n258 mmWave", "n260 mmWave"],
        Unit.EACH,
    ),
    (ItemCategory.RADIO, "BB", "Baseband unit {v}", ["6630", "6648", "6651", "5216"], Unit.EACH),
    (
        ItemCategory.ANTENNA,
        "ANT",
        "Panel antenna {v}",
        [
            "hex-port 8 ft",
            "hex-port 6 ft",
            "quad-port 8 ft",
            "quad-port 6 ft",
            "octo-port 8 ft",
            "twin-port 4 ft",
            "FirstNet 6 ft",
            "CBRS 4 ft",
            "small cell omni",
            "GPS",
        ],
        Unit.EACH,
    ),
    (
        ItemCategory.ANTENNA,
        "TMA",
        "Tower-mounted amplifier {v}",
        ["AWS dual", "PCS dual", "700 MHz twin", "850 MHz twin"],
        Unit.EACH,
    ),
    (
        ItemCategory.CABLE,
        "JMP",
        "RF jumper 1/2 in, {v}",
        ["1 m", "2 m", "3 m", "5 m", "10 m"],
        Unit.EACH,
    ),
    (
        ItemCategory.CABLE,
        "FBR",
        "Fiber trunk {v}",
        ["30 m", "60 m", "90 m", "150 m", "hybrid 60 m", "hybrid 90 m"],
        Unit.EACH,
    ),
    (ItemCategory.CABLE, "COAX", "Coax feeder {v}", ["7/8 in", "1-1/4 in", "1-5/8 in"], Unit.METER),
    (
        ItemCategory.CABLE,
        "DCC",
        "DC power cable {v}",
        ["6 AWG", "8 AWG", "10 AWG", "2 AWG"],
        Unit.METER,
    ),
    (
        ItemCategory.POWER,
        "RECT",
        "Rectifier {v}",
        ["module 2 kW", "module 3 kW", "shelf -48 V", "shelf +24 V"],
        Unit.EACH,
    ),
    (
        ItemCategory.POWER,
        "BATT",
        "Battery string {v}",
        ["100 Ah", "155 Ah", "190 Ah", "lithium 100 Ah"],
        Unit.SET,
    ),
    (
        ItemCategory.POWER,
        "PWR",
        "Power {v}",
        [
            "distribution unit",
            "surge protector",
            "breaker 30 A",
            "breaker 60 A",
            "generator plug",
            "OVP box 6 ports",
            "OVP box 12 ports",
            "meter base",
        ],
        Unit.EACH,
    ),
    (
        ItemCategory.MOUNTING,
        "MNT",
        "Mount {v}",
        [
            "pipe 2 m",
            "pipe 3 m",
            "sector frame",
            "T-arm 12 ft",
            "T-arm 10 ft",
            "side arm",
            "stand-off 1 m",
            "RRU bracket",
            "ice bridge 3 m",
            "ice bridge 6 m",
            "ballast frame",
            "collar 3 ft",
            "collar 4 ft",
            "kicker kit",
            "crossover plate",
        ],
        Unit.EACH,
    ),
    (
        ItemCategory.MOUNTING,
        "HW",
        "Hardware {v}",
        [
            "U-bolt kit",
            "clamp set 1/2 in",
            "clamp set 7/8 in",
            "hanger kit",
            "snap-in hanger 10",
            "bolt kit galvanized",
        ],
        Unit.SET,
    ),
    (
        ItemCategory.GROUNDING,
        "GRD",
        "Grounding {v}",
        [
            "bar 12 in",
            "bar 20 in",
            "kit 1/2 in",
            "kit 7/8 in",
            "wire 2 AWG",
            "lug set",
            "rod 8 ft",
            "exothermic weld kit",
        ],
        Unit.SET,
    ),
    (
        ItemCategory.CONNECTOR,
        "CON",
        "Connector {v}",
        [
            "N male 1/2 in",
            "N female 1/2 in",
            "4.3-10 male",
            "4.3-10 female",
            "DIN 7/16 male",
            "DIN 7/16 female",
            "LC duplex",
            "weatherproofing kit",
            "cold shrink kit",
            "SFP 10G",
            "SFP 25G",
        ],
        Unit.EACH,
    ),
    (
        ItemCategory.TRANSMISSION,
        "TX",
        "Transmission {v}",
        [
            "microwave 80 GHz",
            "microwave 18 GHz",
            "microwave 23 GHz",
            "dish 1 ft",
            "dish 2 ft",
            "dish 3 ft",
            "cell site router",
            "NID",
            "fiber patch panel",
            "DWDM mux",
        ],
        Unit.EACH,
    ),
    (
        ItemCategory.ENCLOSURE,
        "ENC",
        "Enclosure {v}",
        [
            "outdoor cabinet 40U",
            "outdoor cabinet 20U",
            "battery cabinet",
            "indoor rack 42U",
            "equipment shelter",
            "small cell pole box",
            "fan kit",
            "heat exchanger",
            "door alarm kit",
        ],
        Unit.EACH,
    ),
    (
        ItemCategory.RADIO,
        "SC",
        "Small cell radio {v}",
        ["CBRS 2T2R", "n41 4T4R", "B66 2T2R", "mmWave node"],
        Unit.EACH,
    ),
    (
        ItemCategory.CABLE,
        "ETH",
        "Ethernet cable {v}",
        ["Cat6 outdoor 30 m", "Cat6 outdoor 60 m", "Cat6A 10 m", "shielded 90 m"],
        Unit.EACH,
    ),
    (
        ItemCategory.CONNECTOR,
        "ADP",
        "Adapter {v}",
        [
            "N to 4.3-10",
            "DIN to 4.3-10",
            "N to DIN",
            "SMA to N",
            "QMA to N",
            "splitter 2-way",
            "splitter 3-way",
            "diplexer",
        ],
        Unit.EACH,
    ),
    (
        ItemCategory.GROUNDING,
        "LPS",
        "Lightning protection {v}",
        ["rod", "coax arrestor", "DC arrestor", "bonding strap"],
        Unit.EACH,
    ),
    (
        ItemCategory.ENCLOSURE,
        "CAB",
        "Cabinet part {v}",
        ["AC unit", "filter set", "lock kit", "cable entry plate", "battery tray"],
        Unit.EACH,
    ),
]
# Lifecycle changes: discontinued items, and replaced ones pointing to their successor.
DISCONTINUED = ["TX-01", "RRU-05"]
REPLACED = {"ANT-04": "ANT-03", "BATT-01": "BATT-02", "JMP-05": "JMP-04"}
# Scarce items: stocked thinly so that some approved orders cannot be allocated.
SCARCE_CATEGORIES = {ItemCategory.RADIO}

KITS = [
    ("KIT-SECTOR", "Sector kit", [("MNT-03", 1), ("JMP-03", 6), ("CON-01", 12), ("HW-01", 2)]),
    ("KIT-GROUND", "Grounding kit", [("GRD-01", 1), ("GRD-03", 3), ("GRD-06", 1)]),
    ("KIT-POWER", "Power plant", [("RECT-03", 1), ("RECT-01", 3), ("BATT-03", 2)]),
    ("KIT-FIBER", "Fiber run", [("FBR-02", 2), ("CON-07", 4), ("TX-09", 1)]),
]
# Which categories each order type draws its lines from.
ORDER_TYPE_CATEGORIES = {
    OrderType.SITE_BUILD: [ItemCategory.MOUNTING, ItemCategory.GROUNDING, ItemCategory.ENCLOSURE],
    OrderType.RADIO: [
        ItemCategory.RADIO,
        ItemCategory.ANTENNA,
        ItemCategory.CABLE,
        ItemCategory.CONNECTOR,
    ],
    OrderType.TRANSMISSION: [ItemCategory.TRANSMISSION, ItemCategory.CABLE],
    OrderType.POWER: [ItemCategory.POWER, ItemCategory.CABLE],
}
PROJECT_COUNT = 60
# Where the demo orders end up (weights); about 200 orders in all.
STORY = {
    OrderStatus.DRAFT: 45,
    "rejected": 10,
    OrderStatus.APPROVED: 40,
    OrderStatus.ALLOCATED: 25,
    OrderStatus.RELEASED: 20,
    OrderStatus.CLOSED: 30,
    OrderStatus.PARTIALLY_RETURNED: 10,
    OrderStatus.FULLY_RETURNED: 5,
    OrderStatus.CANCELLED: 15,
}


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
        _minimum_levels()
        projects = _projects(markets, today)
        _orders(projects, items, warehouses, today)
        _notes()
        _design_events(projects, items, today)
        _mismatched_orders(projects, items, warehouses, today)
        run = allocation_services.allocation_run_request(actor=SEEDER, trigger=Trigger.COMMAND)
    # The run executes once the data is committed: in process here even with a broker,
    # so the demo starts with a finished run (the queued task then finds nothing to do).
    allocation_services.allocation_run_execute(run_id=run.pk)
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


def _minimum_levels() -> None:
    """Minimum levels the demo orders will take some levels below (stock.below_minimum)."""
    for level in StockLevel.objects.select_related("item").order_by("pk"):
        scarce = level.item.category in SCARCE_CATEGORIES
        stock_set_minimum(
            level=level,
            minimum_level=2 if scarce else 40,
            reason="demo safety stock",
            actor=SEEDER,
        )


def _projects(markets: dict[str, Market], today: datetime.date) -> list[Project]:
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


def _orders(projects, items, warehouses, today) -> None:
    rng = random.Random(3)
    by_category: dict[str, list[Item]] = {}
    for item in items.values():
        if item.is_active:
            by_category.setdefault(item.category, []).append(item)
    kits = {kit.code: kit for kit in Kit.objects.prefetch_related("versions__components__item")}
    targets = [status for status, weight in STORY.items() for _ in range(weight)]
    rng.shuffle(targets)
    streams = [(project, order_type) for project in projects for order_type in OrderType.values]
    rng.shuffle(streams)
    for (project, order_type), target in zip(streams, targets, strict=False):
        pool = [i for c in ORDER_TYPE_CATEGORIES[order_type] for i in by_category[c]]
        chosen = rng.sample(pool, rng.randint(2, 6))
        lines = [order_services.LineSpec(item=i, quantity=rng.randint(1, 4)) for i in chosen]
        if order_type == OrderType.SITE_BUILD:
            lines += _kit_lines(kits["KIT-GROUND"], {i.pk for i in chosen})
        elif order_type == OrderType.RADIO and rng.random() < 0.5:
            lines += _kit_lines(kits["KIT-SECTOR"], {i.pk for i in chosen}, times=3)
        order = order_services.order_create(
            project=project,
            order_type=order_type,
            plan_type=project.plan_type,
            national_priority=rng.choices([1, 2, 3, 4, 5], weights=[1, 2, 4, 2, 1])[0],
            need_by=today + datetime.timedelta(days=rng.randint(-10, 90)),
            lines=lines,
            actor=SEEDER,
            event_id=f"demo-{project.external_id}-{order_type}",
        )
        _drive(order, target, project)


# By status, or "rejected" for a draft with a rejection reason.
DEMO_NOTES = {
    OrderStatus.DRAFT: "Waiting for the landlord to confirm roof access before approving.",
    OrderStatus.APPROVED: "Priority raised by the market lead: site must be on air this month.",
    OrderStatus.RELEASED: "Crane booked for the delivery day; the crew needs everything at once.",
    "rejected": "Asked engineering for a corrected antenna count.",
}


def _notes() -> None:
    """A coordinator's notes on one order of each of a few kinds."""
    coordinator = Actor.person(User.objects.get(username="coordinator"))
    for status, text in DEMO_NOTES.items():
        orders = Order.objects.order_by("id")
        if status == "rejected":
            order = orders.exclude(reason_code="").first()
        else:
            order = orders.filter(status=status, reason_code="").first()
        if order is not None:
            order_services.order_add_note(order=order, actor=coordinator, text=text)


def _kit_lines(kit: Kit, taken: set[int], times: int = 1) -> list[order_services.LineSpec]:
    version = kit.versions.all()[0]
    return [
        order_services.LineSpec(item=c.item, quantity=c.quantity * times, source="kit", kit=kit)
        for c in version.components.all()
        if c.item_id not in taken
    ]


def _drive(order: Order, target: str, project: Project) -> None:
    """Take an order through the real services to its demo status. An order whose
    stock is short stays APPROVED, as it would in production."""
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
    if not project.is_active:
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
    try:
        order = _allocate_somewhere(order, project)
    except InsufficientStock:
        return
    if target == OrderStatus.ALLOCATED:
        return
    order = order_services.order_release(order=order, actor=SEEDER)
    # The warehouse answers through the same callbacks as the warehouse system.
    release = order.releases.get()
    callbacks.release_accepted(
        release=release, event_id=f"demo-{release.release_id}:accepted", actor=DEMO_WAREHOUSE
    )
    if target == OrderStatus.RELEASED:
        return
    callbacks.release_completed(
        release=release,
        event_id=f"demo-{release.release_id}:completed",
        lines=[callbacks.ShippedLine(line["item"], line["quantity"]) for line in release.lines],
        actor=DEMO_WAREHOUSE,
    )
    if target == OrderStatus.CLOSED:
        return
    lines = list(order.lines.select_related("item"))
    full = target == OrderStatus.FULLY_RETURNED
    callbacks.release_returned(
        release=release,
        event_id=f"demo-{release.release_id}:return:1",
        lines=[
            callbacks.ReturnedLine(
                item=line.item.code,
                quantity=line.released_quantity if full else 1,
                condition=Condition.GOOD if n else Condition.DAMAGED,
                reason="Site scope reduced" if n else "Damaged in transit",
            )
            for n, line in enumerate(lines if full else lines[:1])
        ],
        actor=DEMO_WAREHOUSE,
    )


def _allocate_somewhere(order: Order, project: Project) -> Order:
    """Allocate from the serving warehouses in rank order, the first that has it all."""
    served = WarehouseMarket.objects.filter(market=project.market).order_by("rank")
    for serving in served.select_related("warehouse"):
        try:
            return order_services.order_allocate(
                order=order, warehouse=serving.warehouse, actor=SEEDER
            )
        except InsufficientStock:
            continue
    raise InsufficientStock(f"No warehouse serving {project.market} has {order.number}.")


def _mismatched_orders(projects, items, warehouses, today) -> None:
    """Approved orders the allocation run must reject, each for another configuration
    mismatch: a market no warehouse serves (Anchorage), an item discontinued after
    approval, an item no warehouse knows, an item no serving warehouse stocks; and one
    gated approved order, which the run reports and leaves alone."""
    region = Region.objects.get(code="WEST")
    anchorage = Market.objects.create(code="ANC", name="Anchorage", region=region)
    ready = [p for p in projects if p.is_active and not gates.release_gate(p, OrderType.RADIO)]
    by_market = {}
    for project in ready:
        by_market.setdefault(project.market.code, project)
    for n, (market, (code, description, lifecycle, stocked_at)) in enumerate(MISMATCHES):
        if market == "ANC":
            template = ready[0]
            project = Project.objects.create(
                external_id=f"PRJ-{2026100 + n}",
                name="Anchorage Harbor 1",
                site_code="ANC0001",
                market=anchorage,
                plan_type=PlanType.COVERAGE,
                **{m: getattr(template, m) for m in MILESTONE_FIELDS},
            )
        else:
            project = by_market[market]
        item = Item.objects.create(
            code=code, description=description, category=ItemCategory.RADIO, unit=Unit.EACH
        )
        for warehouse in stocked_at:
            stock_receive(
                warehouse=warehouses[warehouse],
                item=item,
                quantity=10,
                reason="opening stock (demo)",
                actor=SEEDER,
            )
        order = order_services.order_create(
            project=project,
            order_type=OrderType.RADIO,
            plan_type=project.plan_type,
            national_priority=2,
            need_by=today + datetime.timedelta(days=20),
            lines=[
                order_services.LineSpec(item=item, quantity=2),
                order_services.LineSpec(item=items["JMP-02"], quantity=4),
            ],
            actor=SEEDER,
            event_id=f"demo-mismatch-{code}",
        )
        order_services.order_approve(order=order, actor=SEEDER)
        if lifecycle != ItemLifecycle.ACTIVE:
            item.lifecycle = lifecycle
            item.save()
    gated_project = next(p for p in projects if p.is_active and gates.release_gate(p, "radio"))
    order = order_services.order_create(
        project=gated_project,
        order_type=OrderType.RADIO,
        plan_type=gated_project.plan_type,
        national_priority=1,
        need_by=today + datetime.timedelta(days=45),
        lines=[order_services.LineSpec(item=items["RRU-01"], quantity=3)],
        actor=SEEDER,
        gated=True,
        gate_reason=gates.release_gate(gated_project, OrderType.RADIO),
        event_id="demo-gated",
    )
    order_services.order_approve(order=order, actor=SEEDER)


MILESTONE_FIELDS = [
    "site_acquired_on",
    "design_complete_on",
    "permits_approved_on",
    "notice_to_proceed_on",
    "construction_start_on",
    "on_air_on",
]


def _design_events(projects, items, today) -> None:
    """Orders that came from the engineering system: created by design events, one
    revised, one closed and then extended by a supplemental order, and one invalid
    event waiting in the dead letters."""
    ready = [p for p in projects if p.is_active and not gates.release_gate(p, OrderType.RADIO)]
    start = timezone.now() - datetime.timedelta(days=20)

    def send(project, n, minutes, bom, kind="design_approved"):
        payload = {
            "event_id": f"demo-eng-{project.external_id}-{n}",
            "type": kind,
            "project_id": project.external_id,
            "order_type": OrderType.RADIO,
            "occurred_at": (start + datetime.timedelta(minutes=minutes)).isoformat(),
            "need_by": (today + datetime.timedelta(days=30)).isoformat(),
            "national_priority": 2,
            "items": [{"item": code, "quantity": q} for code, q in bom.items()],
            "kits": [{"kit": "KIT-SECTOR", "quantity": 3}],
        }
        received = ingestion.receive(payload, received_from="demo-engineering")
        return ingestion.process(received.event)

    revised, closed, invalid = ready[:3]
    send(revised, 1, 0, {"RRU-02": 3, "ANT-01": 3})
    send(revised, 2, 60, {"RRU-02": 3, "ANT-01": 6, "TMA-01": 3})
    order = send(closed, 1, 0, {"RRU-01": 1, "ANT-02": 2}).order
    order = order_services.order_approve(order=order, actor=SEEDER)
    warehouse = (
        Warehouse.objects.filter(served__market=closed.market).order_by("served__rank").first()
    )
    for line in order.lines.all():
        stock_receive(
            warehouse=warehouse,
            item=line.item,
            quantity=line.quantity,
            reason="demo delivery for an engineering order",
            actor=SEEDER,
        )
    order = order_services.order_allocate(order=order, warehouse=warehouse, actor=SEEDER)
    order = order_services.order_release(order=order, actor=SEEDER)
    order_services.order_complete(order=order, actor=SEEDER)
    send(closed, 2, 60, {"RRU-01": 2, "ANT-02": 2, "CON-03": 4})
    send(invalid, 1, 0, {"RRU-99": 2})
