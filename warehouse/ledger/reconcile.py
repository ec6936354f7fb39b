"""Reconciling stock levels with the ledger.

Every stock level must equal the sums of its movements (under MOVEMENT_EFFECTS) and its
`reserved` must equal the quantity of its ACTIVE allocations. The check reads three
grouped queries (movements per warehouse and item, active allocations per level, the
levels) in one snapshot, whatever the number of levels, and compares them.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass

from django.db import connection, transaction
from django.db.models import Count, Sum

from catalog.models import Item
from oms.jobs import job_run
from warehouse.ledger.models import Allocation, StockLevel, StockMovement, Warehouse
from warehouse.ledger.selectors import effect_expression

FIELDS = ("on_hand", "reserved", "damaged")
ALLOCATIONS = "reserved (active allocations)"


@dataclass(frozen=True)
class Difference:
    warehouse: str
    item: str
    field: str
    level: int  # what the stock level says
    ledger: int  # what the movements (or the active allocations) add up to


@dataclass(frozen=True)
class Reconciliation:
    levels: int
    movements: int
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


def reconcile_stock() -> Reconciliation:
    """Compare every stock level with its ledger and its active allocations."""
    with _snapshot():
        ledger = _ledger_sums()
        movements = sum(n for *_, n in ledger.values())
        allocated = dict(
            Allocation.objects.filter(status=Allocation.Status.ACTIVE)
            .order_by()
            .values("stock_level_id")
            .annotate(total=Sum("quantity"))
            .values_list("stock_level_id", "total")
        )
        found: list[tuple[int, int, str, int, int]] = []  # warehouse id, item id, field, ...
        levels = 0
        rows = StockLevel.objects.order_by("pk").values_list(
            "pk", "warehouse_id", "item_id", "on_hand", "reserved", "damaged"
        )
        for pk, warehouse_id, item_id, *values in rows.iterator(chunk_size=5000):
            levels += 1
            sums = ledger.pop((warehouse_id, item_id), None) or (0, 0, 0, 0)
            for field, value, total in zip(FIELDS, values, sums, strict=False):
                if value != total:
                    found.append((warehouse_id, item_id, field, value, total))
            if values[1] != allocated.get(pk, 0):
                found.append((warehouse_id, item_id, ALLOCATIONS, values[1], allocated.get(pk, 0)))
        # Movements of a warehouse and item that has no stock level at all.
        for (warehouse_id, item_id), sums in ledger.items():
            for field, total in zip(FIELDS, sums, strict=False):
                if total:
                    found.append((warehouse_id, item_id, field, 0, total))
        return Reconciliation(levels=levels, movements=movements, differences=_named(found))


def _ledger_sums() -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """(on hand, reserved, damaged, movement count) per (warehouse id, item id), summed
    by the database in one GROUP BY."""
    sums = {field: Sum(effect_expression(field)) for field in FIELDS}
    rows = (
        StockMovement.objects.order_by()
        .values("warehouse_id", "item_id")
        .annotate(**sums, n=Count("id"))
        .values_list("warehouse_id", "item_id", *FIELDS, "n")
    )
    return {(w, i): (on_hand, reserved, damaged, n) for w, i, on_hand, reserved, damaged, n in rows}


def _named(found) -> tuple[Difference, ...]:
    warehouses = dict(
        Warehouse.objects.filter(pk__in={w for w, *_ in found}).values_list("pk", "code")
    )
    items = dict(Item.objects.filter(pk__in={i for _, i, *_ in found}).values_list("pk", "code"))
    return tuple(
        sorted(
            (
                Difference(warehouses[w], items[i], field, level, ledger)
                for w, i, field, level, ledger in found
            ),
            key=lambda d: (d.warehouse, d.item, d.field),
        )
    )


@contextmanager
def _snapshot():
    """One consistent view for the three reads: a REPEATABLE READ, read-only transaction
    on PostgreSQL when not already inside one (on SQLite, the transaction itself)."""
    fresh = not connection.in_atomic_block
    with transaction.atomic():
        if fresh and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def difference_table(differences) -> str:
    """The differences as a plain-text table."""
    header = ("warehouse", "item", "field", "level", "ledger")
    rows = [(d.warehouse, d.item, d.field, str(d.level), str(d.ledger)) for d in differences]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row):
        cells = [
            cell.rjust(width) if i >= 3 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


JOB = "reconcile_stock"
# How many differences a job run keeps in its detail and its mail.
SHOWN = 100


def reconcile_stock_job() -> Reconciliation:
    """Reconcile as a job run: a mismatch fails the run, which mails the operations
    team (OMS_OPS_EMAILS) the table of differences."""
    with job_run(JOB) as counts:
        result = reconcile_stock()
        counts.detail.update(
            levels=result.levels,
            movements=result.movements,
            differences=len(result.differences),
        )
        counts.failed = len(result.differences)
        if not result.ok:
            shown = result.differences[:SHOWN]
            counts.detail["sample"] = [asdict(d) for d in shown]
            more = len(result.differences) - len(shown)
            counts.fail(
                f"{len(result.differences)} difference(s) between stock levels and the "
                "ledger:\n\n"
                + difference_table(shown)
                + (f"\n... and {more} more" if more else "")
                + "\n"
            )
    return result
