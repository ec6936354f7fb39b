"""The demo's data: users, markets, warehouses, the catalog, and the story the demo
orders tell (how many end in each status)."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.choices import ItemCategory, ItemLifecycle, Unit
from oms.actors import Actor
from oms.scopes import Scope, client_permissions
from orders.choices import OrderStatus, OrderType

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
# Where the demo's design events say they came from.
DESIGN_SOURCE = "demo-engineering"
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


# By status, or "rejected" for a draft with a rejection reason.
DEMO_NOTES = {
    OrderStatus.DRAFT: "Waiting for the landlord to confirm roof access before approving.",
    OrderStatus.APPROVED: "Priority raised by the market lead: site must be on air this month.",
    OrderStatus.RELEASED: "Crane booked for the delivery day; the crew needs everything at once.",
    "rejected": "Asked engineering for a corrected antenna count.",
}


MILESTONE_FIELDS = [
    "site_acquired_on",
    "design_complete_on",
    "permits_approved_on",
    "notice_to_proceed_on",
    "construction_start_on",
    "on_air_on",
]
