"""Builders for allocation tests: a market with ranked warehouses, approved orders made
through the services, a run executed in the test's own transaction, and the stock
invariants."""

import datetime
from dataclasses import dataclass

from django.db.models import Sum

from allocation import services
from allocation.choices import Trigger
from allocation.models import AllocationRun
from orders import services as order_services
from orders.models import Order
from tests.factories import (
    SETUP,
    ItemFactory,
    MarketFactory,
    ProjectFactory,
    WarehouseFactory,
    make_order,
    serve,
)
from warehouse.ledger.choices import MOVEMENT_EFFECTS
from warehouse.ledger.models import Allocation, StockLevel, StockMovement


@dataclass
class World:
    """One market served by warehouses A (rank 1) and B (rank 2), and items."""

    market: object
    a: object
    b: object
    items: list

    def project(self, **kwargs):
        return ProjectFactory(market=self.market, **kwargs)

    def approved(self, lines, **kwargs):
        """An APPROVED order of a project in the market; lines are (item, quantity)."""
        project = kwargs.pop("project", None) or self.project()
        order = make_order(project=project, lines=lines, **kwargs)
        return order_services.order_approve(order=order, actor=SETUP)


def make_world() -> World:
    market = MarketFactory()
    a, b = WarehouseFactory(), WarehouseFactory()
    serve(a, market, rank=1)
    serve(b, market, rank=2)
    return World(market, a, b, [ItemFactory() for _ in range(4)])


def allocate(*, dry_run: bool = False, actor=SETUP) -> AllocationRun:
    """Request a run and execute it here (the test's transaction never commits, so the
    task that would execute it after commit does not run)."""
    run = services.allocation_run_request(actor=actor, trigger=Trigger.COMMAND, dry_run=dry_run)
    services.allocation_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def outcome_of(run, order):
    """What the run did with the order."""
    return run.outcomes.get(order=order)


def status_of(order) -> str:
    return Order.objects.values_list("status", flat=True).get(pk=order.pk)


def available(warehouse, item) -> int:
    level = StockLevel.objects.filter(warehouse=warehouse, item=item).first()
    return level.available if level else 0


def stock_is_consistent() -> list[str]:
    """Every broken stock invariant: reserved within on hand, the active allocations of
    a level sum to its reserved, the ledger explains the level, and each line's
    allocated quantity is what its active allocations hold."""
    problems = []
    active = dict(
        Allocation.objects.filter(status=Allocation.Status.ACTIVE)
        .values_list("stock_level")
        .annotate(n=Sum("quantity"))
        .order_by()
    )
    ledger: dict = {}
    for row in (
        StockMovement.objects.values("warehouse_id", "item_id", "kind")
        .annotate(q=Sum("quantity"))
        .order_by()
    ):
        totals = ledger.setdefault((row["warehouse_id"], row["item_id"]), [0, 0, 0])
        for i, sign in enumerate(MOVEMENT_EFFECTS[row["kind"]]):
            totals[i] += sign * row["q"]
    for level in StockLevel.objects.all():
        if not 0 <= level.reserved <= level.on_hand:
            problems.append(f"{level}: reserved {level.reserved}, on hand {level.on_hand}")
        if active.get(level.pk, 0) != level.reserved:
            problems.append(f"{level}: allocations {active.get(level.pk, 0)} != {level.reserved}")
        explained = ledger.get((level.warehouse_id, level.item_id), [0, 0, 0])
        if explained != [level.on_hand, level.reserved, level.damaged]:
            problems.append(f"{level}: ledger {explained}")
    from orders.models import OrderLine

    held = dict(
        Allocation.objects.filter(status=Allocation.Status.ACTIVE)
        .values_list("order_line")
        .annotate(n=Sum("quantity"))
        .order_by()
    )
    for line in OrderLine.objects.all():
        if held.get(line.pk, 0) != line.allocated_quantity:
            problems.append(f"line {line.pk}: allocated {line.allocated_quantity}")
    return problems


TODAY = datetime.date(2026, 12, 1)
