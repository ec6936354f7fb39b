"""On random small instances the engine decides exactly as a brute-force reference of
the same policy (tests/allocation/reference.py), and never reserves more than is on
hand: first the engine's walk alone, then whole runs against the database."""

import datetime

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocation.choices import Result
from allocation.engine import apply as engine_apply
from allocation.engine.demand import Demand, ItemInfo, OrderDemand, Stock
from allocation.engine.walk import walk
from allocation.models import OrderTypeRank, PlanTypeRank, RankingConfig
from allocation.ranking import Ranking
from catalog.choices import ItemLifecycle
from oms import audit
from orders import services as order_services
from orders.models import Order
from tests.allocation.builders import allocate, stock_is_consistent
from tests.allocation.reference import DAY, Instance, Outcome, instances, reference
from tests.factories import (
    SETUP,
    ItemFactory,
    MarketFactory,
    ProjectFactory,
    WarehouseFactory,
    serve,
    stock,
)
from warehouse.ledger.models import Allocation, StockLevel

APPROVED_AT = datetime.datetime(2026, 11, 1, 8, 0, tzinfo=datetime.UTC)


def _walk(instance: Instance) -> dict[int, Outcome]:
    """The engine's walk on the instance, read back as the reference's outcomes."""
    orders = [
        OrderDemand(
            id=n + 1,
            number=f"MO-{n + 1}",
            version=1,
            national_priority=o.national_priority,
            plan_type=o.plan_type,
            order_type=o.order_type,
            need_by=DAY + datetime.timedelta(days=o.need_by_days),
            approved_at=None
            if o.approved_seq is None
            else APPROVED_AT + datetime.timedelta(minutes=o.approved_seq),
            market_id=o.market + 1,
            gated=o.gated,
            gate_reason="gated" if o.gated else "",
            lines=[((n + 1) * 100 + i, i + 1, q) for i, q in o.lines],
        )
        for n, o in enumerate(instance.orders)
    ]
    demand = Demand(
        orders=orders,
        items={
            i + 1: ItemInfo(
                f"I{i}",
                "",
                ItemLifecycle.DISCONTINUED if i in instance.discontinued else ItemLifecycle.ACTIVE,
            )
            for i in range(instance.items)
        },
        serving={m + 1: [w + 1 for w in ws] for m, ws in instance.serving.items()},
        warehouses={w + 1: f"W{w}" for w in range(instance.warehouses)},
        markets={m + 1: f"M{m}" for m in range(instance.markets)},
    )
    stock_ = Stock(
        levels={(w + 1, i + 1): w * 100 + i + 1 for (w, i) in instance.stock},
        available={w * 100 + i + 1: q for (w, i), q in instance.stock.items()},
    )
    ranking = Ranking(tuple(instance.criteria), instance.plan_ranks, instance.order_ranks)
    plan = walk(orders, demand, stock_, ranking, split=instance.split)
    taken: dict[int, int] = {}
    for d in plan.decisions:
        for p in d.placements:
            taken[p.level_id] = taken.get(p.level_id, 0) + p.quantity
    for level, quantity in taken.items():
        assert quantity <= stock_.available[level], "reserved more than is available"
    return {
        d.order.id - 1: Outcome(
            d.result,
            d.reason_code,
            tuple(sorted((p.item_id - 1, p.warehouse_id - 1, p.quantity) for p in d.placements)),
        )
        for d in plan.decisions
    }


@settings(max_examples=400, deadline=None)
@given(instances())
def test_the_walk_decides_as_the_brute_force_reference(instance):
    assert _walk(instance) == reference(instance)


# --- Whole runs against the database ----------------------------------------------------


def _build(instance: Instance):
    """The instance in the database, through the services. Returns the orders."""
    markets = [MarketFactory() for _ in range(instance.markets)]
    warehouses = [WarehouseFactory() for _ in range(instance.warehouses)]
    for m, ranked in instance.serving.items():
        for rank, w in enumerate(ranked, start=1):
            serve(warehouses[w], markets[m], rank=rank)
    items = [ItemFactory() for _ in range(instance.items)]
    for (w, i), quantity in instance.stock.items():
        if quantity:
            stock(warehouses[w], items[i], quantity)
        else:  # a level the warehouse knows, with nothing in it
            with audit.acting(SETUP):
                StockLevel.objects.create(warehouse=warehouses[w], item=items[i])
    config = RankingConfig.objects.get_or_create(pk=1)[0]
    with audit.acting(SETUP):
        config.criteria.all().delete()
        config.plan_type_ranks.all().delete()
        config.order_type_ranks.all().delete()
        for position, criterion in enumerate(instance.criteria, start=1):
            config.criteria.create(position=position, criterion=criterion)
        for plan_type, rank in instance.plan_ranks.items():
            PlanTypeRank.objects.create(config=config, plan_type=plan_type, rank=rank)
        for order_type, rank in instance.order_ranks.items():
            OrderTypeRank.objects.create(config=config, order_type=order_type, rank=rank)
    orders = []
    for o in instance.orders:
        orders.append(
            order_services.order_create(
                project=ProjectFactory(market=markets[o.market]),
                order_type=o.order_type,
                plan_type=o.plan_type,
                national_priority=o.national_priority,
                need_by=DAY + datetime.timedelta(days=o.need_by_days),
                lines=[order_services.LineSpec(item=items[i], quantity=q) for i, q in o.lines],
                actor=SETUP,
                gated=o.gated,
                gate_reason="Waiting for construction start" if o.gated else "",
            )
        )
    for n in sorted(range(len(orders)), key=lambda n: instance.orders[n].approved_seq):
        order_services.order_approve(order=orders[n], actor=SETUP)
    with audit.acting(SETUP):
        for i in instance.discontinued:
            items[i].lifecycle = ItemLifecycle.DISCONTINUED
            items[i].save()
    return orders, items, warehouses


def _read_back(run, orders, items, warehouses) -> dict[int, Outcome]:
    index = {order.pk: n for n, order in enumerate(orders)}
    item_index = {item.pk: i for i, item in enumerate(items)}
    warehouse_index = {w.pk: n for n, w in enumerate(warehouses)}
    held: dict[int, list] = {}
    for a in Allocation.objects.filter(status="active").select_related("order_line", "stock_level"):
        held.setdefault(index[a.order_line.order_id], []).append(
            (
                item_index[a.order_line.item_id],
                warehouse_index[a.stock_level.warehouse_id],
                a.quantity,
            )
        )
    return {
        index[outcome.order_id]: Outcome(
            outcome.result,
            outcome.reason_code,
            tuple(sorted(held.get(index[outcome.order_id], []))),
        )
        for outcome in run.outcomes.all()
    }


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(instance=instances(max_orders=5, max_items=3, max_warehouses=3), data=st.data())
def test_a_run_decides_as_the_reference_and_never_reserves_more_than_on_hand(
    instance, data, settings, monkeypatch
):
    settings.OMS_ALLOCATION_SPLIT = instance.split
    # the run writes its plan in chunks of one to a few orders, each re-checking them
    monkeypatch.setattr(engine_apply, "FIRST_CHUNK", data.draw(st.integers(1, 4)))
    monkeypatch.setattr(engine_apply, "MIN_CHUNK", 1)
    settings.OMS_ALLOCATION_CHUNK_SECONDS = 0
    with transaction.atomic():
        orders, items, warehouses = _build(instance)
        run = allocate()

        expected = reference(instance)
        assert _read_back(run, orders, items, warehouses) == expected
        assert stock_is_consistent() == []
        statuses = dict(
            Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("pk", "status")
        )
        for n, order in enumerate(orders):
            wanted = {
                Result.ALLOCATED: "allocated",
                Result.REJECTED: "draft",
            }.get(expected[n].result, "approved")
            assert statuses[order.pk] == wanted
        over = StockLevel.objects.filter(reserved__gt=0).values("pk", "reserved", "on_hand")
        assert all(row["reserved"] <= row["on_hand"] for row in over)
        assert (run.allocated, run.short, run.rejected, run.gated) == tuple(
            sum(1 for o in expected.values() if o.result == r)
            for r in ("allocated", "short", "rejected", "gated")
        )
        assert (Allocation.objects.aggregate(n=Sum("quantity"))["n"] or 0) == run.units_reserved
        transaction.set_rollback(True)
