"""Stock held for orders: where one order's stock would come from, and giving stock
back (the one deallocation service, used by reject, cancel and upstream changes).

Callers hold the order and its lines locked; these functions lock the stock levels
they touch (in primary-key order) and write every change to the ledger.
"""

from django.utils import timezone

from allocation.engine.walk import Placement
from allocation.models import Allocation
from oms import audit, correlation
from oms.actors import Actor
from oms.errors import InsufficientStock, Problem
from orders.models import OrderLine
from warehouse.choices import MovementKind
from warehouse.models import StockLevel, Warehouse
from warehouse.services import lock_stock_levels, record_movement, record_movements


def place_in_warehouse(*, lines, warehouse: Warehouse) -> list[Placement]:
    """Where every line's outstanding quantity would come from in one warehouse: all
    lines or none (InsufficientStock, a problem per short line). Locks the stock levels
    in primary-key order; the caller holds the order and its lines locked and writes the
    placements with allocation.engine.writes."""
    needed = {
        line.item_id: line.outstanding_quantity - line.allocated_quantity
        for line in lines
        if line.outstanding_quantity - line.allocated_quantity > 0
    }
    level_ids = dict(
        StockLevel.objects.filter(warehouse=warehouse, item_id__in=needed).values_list(
            "item_id", "pk"
        )
    )
    levels = lock_stock_levels(level_ids.values())
    shortages = []
    placements = []
    for line in sorted(lines, key=lambda line: line.pk):
        want = needed.get(line.item_id, 0)
        if not want:
            continue
        level = levels.get(level_ids.get(line.item_id))
        available = level.available if level else 0
        if available < want:
            shortages.append(
                Problem(
                    code="short",
                    field=line.item.code,
                    message=f"{line.item.code}: needs {want}, {available} available at "
                    f"{warehouse.code}",
                )
            )
        else:
            placements.append(Placement(line.pk, level.pk, want, warehouse.pk, line.item_id))
    if shortages:
        raise InsufficientStock(f"Not enough stock at {warehouse.code}.", problems=shortages)
    return placements


def release_allocations(*, lines, actor: Actor, reason: str) -> int:
    """Give back everything the lines hold: unreserve the stock, end the allocations.
    Used by reject, cancel and upstream changes. Returns the units released. In a fixed
    number of statements however many lines, so that the order, its lines and their
    stock levels stay locked briefly (a cancellation during an allocation run)."""
    allocations = list(
        Allocation.objects.filter(order_line__in=lines, status=Allocation.Status.ACTIVE)
        .select_related("order_line")
        .order_by("stock_level_id", "pk")
    )
    if not allocations:
        return 0
    levels = lock_stock_levels(a.stock_level_id for a in allocations)
    record_movements(
        moves=[
            (levels[a.stock_level_id], MovementKind.UNRESERVE, a.quantity, a.order_line)
            for a in allocations
        ],
        actor=actor,
        reason=reason,
    )
    now = timezone.now()
    for allocation in allocations:
        allocation.status = Allocation.Status.UNRESERVED
        allocation.ended_at = now
    Allocation.objects.bulk_update(allocations, ["status", "ended_at"])
    held = [line for line in lines if line.allocated_quantity]
    if held:
        OrderLine.objects.filter(pk__in=[line.pk for line in held]).update(allocated_quantity=0)
        for line in held:
            line.allocated_quantity = 0
        audit.bulk_history_of(
            OrderLine.objects.filter(pk__in=[line.pk for line in held]),
            history_type="~",
            key="id",
            reasons={line.pk: (audit.current_reason(), correlation.get()) for line in held},
        )
    return sum(a.quantity for a in allocations)


def issue_allocations(*, lines, shipped: dict[int, int], actor: Actor) -> None:
    """The warehouse shipped: issue the shipped quantity of each line from its
    allocations and unreserve what was not shipped."""
    allocations = list(
        Allocation.objects.filter(order_line__in=lines, status=Allocation.Status.ACTIVE).order_by(
            "order_line_id", "pk"
        )
    )
    levels = lock_stock_levels(a.stock_level_id for a in allocations)
    by_line = {line.pk: line for line in lines}
    left_to_issue = dict(shipped)
    now = timezone.now()
    for allocation in allocations:
        line = by_line[allocation.order_line_id]
        issue = min(allocation.quantity, left_to_issue.get(line.pk, 0))
        left_to_issue[line.pk] = left_to_issue.get(line.pk, 0) - issue
        level = levels[allocation.stock_level_id]
        if issue:
            record_movement(
                level=level, kind=MovementKind.ISSUE, quantity=issue, actor=actor, order_line=line
            )
        if allocation.quantity - issue:
            record_movement(
                level=level,
                kind=MovementKind.UNRESERVE,
                quantity=allocation.quantity - issue,
                actor=actor,
                order_line=line,
                reason="short shipment",
            )
        allocation.status = Allocation.Status.ISSUED
        allocation.ended_at = now
    Allocation.objects.bulk_update(allocations, ["status", "ended_at"])
