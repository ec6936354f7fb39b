"""Synthetic upstream data for load tests and benchmarks: a planning file of projects,
the catalog items the designs use, and two design events per project (the approved
design, then a revised bill of material).

The same seed gives byte-identical files. Every project, item and design comes from its
own random stream (seeded by the seed and its number), so the files are written in one
pass, a project at a time, without holding them in memory.

Every project has reached all milestones through construction start before the events
occur, so the radio orders the events make are neither refused nor gated
(OMS_ORDER_GATES).
"""

from __future__ import annotations

import csv
import datetime
import json
import random
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from catalog.choices import ItemCategory, Unit
from orders.choices import DesignEventType, OrderType, PlanType, ProjectStatus

PROJECTS_FILE = "projects.parquet"
ITEMS_FILE = "items.csv"
DESIGNS_FILE = "design_approved.jsonl"
REVISIONS_FILE = "bom_revised.jsonl"

ITEM_POOL = 2000
MAX_LINES = 2000  # orders.ingestion.MAX_LINES
MAX_QUANTITY = 20
ORDER_TYPE = OrderType.RADIO
DESIGNED_AT = datetime.datetime(2026, 1, 5, 8, 0, tzinfo=datetime.UTC)
REVISED_AT = DESIGNED_AT + datetime.timedelta(days=14)
# The share of a design's lines whose quantity a revision changes, and the share of
# revisions that also add or remove a line.
CHANGED_SHARE = 0.10
RESHAPED_SHARE = 0.05
PARQUET_BATCH_ROWS = 10_000

UNITS = {
    ItemCategory.CABLE: [Unit.EACH, Unit.METER, Unit.ROLL],
    ItemCategory.MOUNTING: [Unit.EACH, Unit.SET],
    ItemCategory.GROUNDING: [Unit.EACH, Unit.KILOGRAM],
}

PROJECT_SCHEMA = pa.schema(
    [
        ("project_id", pa.string()),
        ("site_code", pa.string()),
        ("market", pa.string()),
        ("plan_type", pa.string()),
        ("name", pa.string()),
        ("region", pa.string()),
        ("status", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("site_acquired_on", pa.date32()),
        ("design_complete_on", pa.date32()),
        ("permits_approved_on", pa.date32()),
        ("notice_to_proceed_on", pa.date32()),
        ("construction_start_on", pa.date32()),
        ("on_air_on", pa.date32()),
    ]
)


@dataclass(frozen=True)
class MarketCode:
    code: str
    region: str = ""  # written to the region column when known


def parse_markets(text: str) -> list[MarketCode]:
    """Market codes from "NYC,BOS" or "NYC:EAST,BOS:EAST" (a code, then its region)."""
    markets = []
    for part in text.split(","):
        code, _, region = part.strip().partition(":")
        if code.strip():
            markets.append(MarketCode(code.strip(), region.strip()))
    return markets


@dataclass
class Written:
    """What was written: counts, for reports and checks."""

    folder: Path
    projects: int = 0
    items: int = 0
    design_lines: int = 0
    changed_lines: int = 0
    added_lines: int = 0
    removed_lines: int = 0

    @property
    def revised_lines(self) -> int:
        """The lines of the revised designs (the lines on the orders afterwards)."""
        return self.design_lines + self.added_lines - self.removed_lines


def project_id(number: int) -> str:
    return f"GEN-P{number:06d}"


def item_code(number: int) -> str:
    return f"GEN-{number:05d}"


def _random(seed: int, *parts) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def item_row(seed: int, number: int) -> dict:
    rng = _random(seed, "item", number)
    category = ItemCategory(rng.choice(ItemCategory.values))
    return {
        "code": item_code(number),
        "description": f"Synthetic {category.label.lower()} item {number}",
        "category": category.value,
        "unit": rng.choice(UNITS.get(category, [Unit.EACH])).value,
    }


def project_row(seed: int, number: int, markets: list[MarketCode]) -> dict:
    rng = _random(seed, "project", number)
    market = rng.choice(markets)
    acquired = DESIGNED_AT.date() - datetime.timedelta(days=rng.randint(300, 600))
    milestones = {"site_acquired_on": acquired}
    reached = acquired
    for milestone, (low, high) in {
        "design_complete_on": (20, 90),
        "permits_approved_on": (10, 60),
        "notice_to_proceed_on": (5, 30),
        "construction_start_on": (5, 30),
    }.items():
        reached += datetime.timedelta(days=rng.randint(low, high))
        milestones[milestone] = reached
    return {
        "project_id": project_id(number),
        "site_code": f"GEN-S{number:06d}",
        "market": market.code,
        "plan_type": rng.choice(PlanType.values),
        "name": f"Synthetic site {number}",
        "region": market.region or None,
        "status": ProjectStatus.ACTIVE.value,
        "latitude": round(rng.uniform(25.0, 49.0), 6),
        "longitude": round(rng.uniform(-124.0, -67.0), 6),
        **milestones,
        "on_air_on": None,
    }


def design(seed: int, number: int, *, lines: int, items: int) -> tuple[dict[str, int], dict]:
    """A project's approved bill of material (item code -> quantity) and header."""
    rng = _random(seed, "design", number)
    picked = sorted(rng.sample(range(1, items + 1), lines))
    bom = {item_code(n): rng.randint(1, MAX_QUANTITY) for n in picked}
    header = {
        "need_by": (DESIGNED_AT.date() + datetime.timedelta(days=rng.randint(60, 240))).isoformat(),
        "national_priority": rng.randint(1, 5),
    }
    return bom, header


def revision(seed: int, number: int, bom: dict[str, int], *, items: int) -> dict[str, int]:
    """The revised bill of material: about CHANGED_SHARE of the quantities changed and,
    for about RESHAPED_SHARE of the projects, one line added or removed."""
    rng = _random(seed, "revision", number)
    revised = dict(bom)
    changed = rng.sample(sorted(bom), max(1, round(len(bom) * CHANGED_SHARE)))
    for code in changed:
        revised[code] = rng.choice([q for q in range(1, MAX_QUANTITY + 1) if q != bom[code]])
    if rng.random() < RESHAPED_SHARE:
        unchanged = sorted(set(bom) - set(changed))
        if unchanged and rng.random() < 0.5:
            del revised[rng.choice(unchanged)]
        else:
            code = item_code(rng.randint(1, items))
            while code in bom:
                code = item_code(rng.randint(1, items))
            revised[code] = rng.randint(1, MAX_QUANTITY)
    return dict(sorted(revised.items()))


def design_event(number: int, kind: str, occurred_at, header: dict, plan_type: str, bom) -> dict:
    suffix = "design" if kind == DesignEventType.DESIGN_APPROVED else "bom-1"
    return {
        "event_id": f"{project_id(number)}-{suffix}",
        "type": kind,
        "project_id": project_id(number),
        "order_type": ORDER_TYPE.value,
        "occurred_at": occurred_at.isoformat(),
        **header,
        "plan_type": plan_type,
        "items": [{"item": code, "quantity": quantity} for code, quantity in bom.items()],
    }


def write_items(path: Path, *, seed: int, items: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(
            file, fieldnames=["code", "description", "category", "unit"], lineterminator="\n"
        )
        writer.writeheader()
        for number in range(1, items + 1):
            writer.writerow(item_row(seed, number))


def write_upstream(
    folder: Path,
    *,
    projects: int,
    lines: int,
    seed: int,
    markets: list[MarketCode],
    items: int = ITEM_POOL,
) -> Written:
    """Write the four files into `folder` (made if missing)."""
    if projects < 1 or lines < 1:
        raise ValueError("At least one project and one line per design.")
    if lines > MAX_LINES or lines >= items:
        raise ValueError(f"Lines per design must be under the item pool and at most {MAX_LINES}.")
    if not markets:
        raise ValueError("At least one market.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = Written(folder=folder, items=items)
    write_items(folder / ITEMS_FILE, seed=seed, items=items)

    rows: list[dict] = []
    with (
        pq.ParquetWriter(folder / PROJECTS_FILE, PROJECT_SCHEMA) as parquet,
        (folder / DESIGNS_FILE).open("w", encoding="utf-8") as designs,
        (folder / REVISIONS_FILE).open("w", encoding="utf-8") as revisions,
    ):
        for number in range(1, projects + 1):
            project = project_row(seed, number, markets)
            rows.append(project)
            if len(rows) == PARQUET_BATCH_ROWS:
                parquet.write_batch(pa.RecordBatch.from_pylist(rows, schema=PROJECT_SCHEMA))
                rows = []

            bom, header = design(seed, number, lines=lines, items=items)
            revised = revision(seed, number, bom, items=items)
            plan_type = project["plan_type"]
            for file, kind, occurred_at, lines_of in (
                (designs, DesignEventType.DESIGN_APPROVED, DESIGNED_AT, bom),
                (revisions, DesignEventType.BOM_REVISED, REVISED_AT, revised),
            ):
                event = design_event(number, kind.value, occurred_at, header, plan_type, lines_of)
                file.write(json.dumps(event) + "\n")

            written.projects += 1
            written.design_lines += len(bom)
            written.changed_lines += sum(
                1 for code, q in revised.items() if code in bom and bom[code] != q
            )
            written.added_lines += len(revised.keys() - bom.keys())
            written.removed_lines += len(bom.keys() - revised.keys())
        if rows:
            parquet.write_batch(pa.RecordBatch.from_pylist(rows, schema=PROJECT_SCHEMA))
    return written
