"""The ledger check of the fault tests: every stock level equals the sums of its
movements, and every order line was reserved once and issued once."""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db.models import Count, Sum

from warehouse.ledger.choices import MOVEMENT_EFFECTS, MovementKind
from warehouse.ledger.models import StockLevel, StockMovement


def level_mismatches() -> list[str]:
    """Stock levels whose (on hand, reserved, damaged) differ from their ledger."""
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = StockMovement.objects.values("warehouse_id", "item_id", "kind").annotate(
        total=Sum("quantity")
    )
    for row in rows:
        for i, sign in enumerate(MOVEMENT_EFFECTS[row["kind"]]):
            sums[row["warehouse_id"], row["item_id"]][i] += sign * row["total"]
    problems = []
    for level in StockLevel.objects.all():
        actual = [level.on_hand, level.reserved, level.damaged]
        expected = sums[level.warehouse_id, level.item_id]
        if actual != expected:
            problems.append(f"level {level.pk}: {actual} != ledger {expected}")
    return problems


def movements_per_line(kind: MovementKind) -> Counter:
    """How many movements of a kind each order line has."""
    rows = (
        StockMovement.objects.filter(kind=kind, order_line__isnull=False)
        .values_list("order_line_id")
        .annotate(n=Count("id"))
    )
    return Counter(dict(rows))


def figures() -> dict:
    """Movements by kind (count and units) and the stock totals against the ledger."""
    by_kind = {
        row["kind"]: (row["n"], row["units"])
        for row in StockMovement.objects.values("kind").annotate(
            n=Count("id"), units=Sum("quantity")
        )
    }
    totals = StockLevel.objects.aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    return {"movements": by_kind, **totals}
