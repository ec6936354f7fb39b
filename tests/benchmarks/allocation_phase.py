"""One phase of the allocation benchmark (tests/benchmarks/allocation.py), run in a
fresh process so that the peak memory it reports is the phase's own:

    python -m tests.benchmarks.allocation_phase PHASE '{"orders": ..., ...}'

Phases: `setup` (migrate), `data` (the benchmark's data, written with COPY, not
through the services) and `run` (one allocation run, through the services as beat or a
coordinator would start it). Prints one JSON line: the phase's wall time (Django's
start-up not counted), the process's peak resident memory (getrusage ru_maxrss,
start-up included) and what the phase reports.
"""

from __future__ import annotations

import datetime
import json
import random
import sys

import django

from tests.benchmarks.phases import print_phase

# Draft orders of DRAFT_LINES lines each, outside the run, for the probe to approve and edit.
DRAFTS = 400
DRAFT_LINES = 3
REGIONS = [("BAE", "Bench east"), ("BAW", "Bench west")]
PLAN_TYPES = ["new_build", "coverage", "capacity", "modernization", "maintenance"]
ORDER_TYPES = ["site_build", "radio", "transmission", "power"]


# The columns of each order row the benchmark writes with COPY.
ORDER_COLUMNS = [
    "id",
    "number",
    "project_id",
    "order_type",
    "kind",
    "plan_type",
    "national_priority",
    "need_by",
    "gated",
    "gate_reason",
    "status",
    "revision",
    "version",
    "reason_code",
    "reason_text",
    "correlation_id",
    "upstream_flag",
    "created_at",
    "updated_at",
    "status_changed_at",
    "approved_at",
]


def setup(options: dict) -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {}


def data(options: dict) -> dict:
    """Markets served by ranked warehouses, items, approved orders with their lines, and
    stock covering about `coverage` of what the orders in each market need, split
    between the market's first two warehouses, with the receipts in the ledger."""
    from django.db import connection, transaction

    from catalog.models import Item
    from oms import audit
    from oms.actors import Actor
    from orders.models import Market, Order, OrderLine, Project, Region, order_number
    from warehouse.ledger.models import StockLevel, StockMovement, Warehouse, WarehouseMarket

    rng = random.Random(options["seed"])
    markets_n, warehouses_n = options["markets"], options["warehouses"]
    now = datetime.datetime.now(datetime.UTC)
    today = now.date()
    with transaction.atomic(), audit.acting(Actor.system("bench"), reason="benchmark data"):
        regions = [Region.objects.create(code=c, name=n) for c, n in REGIONS]
        markets = Market.objects.bulk_create(
            Market(code=f"BA{m}", name=f"Bench {m}", region=regions[m % 2])
            for m in range(markets_n)
        )
        warehouses = Warehouse.objects.bulk_create(
            Warehouse(code=f"WB{w:02d}", name=f"Bench DC {w}") for w in range(warehouses_n)
        )
        # market m: warehouses 2m, 2m+1, 2m+2 (mod the count), in rank order
        serving = {
            m: [warehouses[(2 * m + k) % warehouses_n] for k in range(3)] for m in range(markets_n)
        }
        WarehouseMarket.objects.bulk_create(
            WarehouseMarket(warehouse=w, market=markets[m], rank=rank)
            for m, ranked in serving.items()
            for rank, w in enumerate(ranked, start=1)
        )
        items = Item.objects.bulk_create(
            (
                Item(code=f"BI-{n:05d}", description=f"Bench item {n}", category="radio")
                for n in range(options["items"])
            ),
            batch_size=5000,
        )
        item_ids = [item.pk for item in items]
        projects_n = options["orders"] // len(ORDER_TYPES) + 1
        project_market = [rng.randrange(markets_n) for _ in range(projects_n)]
        base = _next_id(Project)
        _copy(
            Project,
            [
                "id",
                "external_id",
                "name",
                "site_code",
                "market_id",
                "status",
                "plan_type",
                "created_at",
                "updated_at",
            ],
            (
                (
                    base + n,
                    f"BP-{n:06d}",
                    f"Bench site {n}",
                    f"BS{n:06d}",
                    markets[project_market[n]].pk,
                    "active",
                    rng.choice(PLAN_TYPES),
                    now,
                    now,
                )
                for n in range(projects_n)
            ),
        )
        demand: dict[tuple[int, int], int] = {}
        order_base, line_base = _next_id(Order), _next_id(OrderLine)
        orders = []
        for n in range(options["orders"]):
            project = n // len(ORDER_TYPES)
            orders.append(
                (
                    order_base + n,
                    order_number(n + 1),
                    base + project,
                    ORDER_TYPES[n % len(ORDER_TYPES)],
                    "original",
                    rng.choice(PLAN_TYPES),
                    rng.randint(1, 5),
                    today + datetime.timedelta(days=rng.randint(-20, 120)),
                    False,
                    "",
                    "approved",
                    1,
                    2,
                    "",
                    "",
                    "",
                    "",
                    now,
                    now,
                    now,
                    now - datetime.timedelta(minutes=rng.randint(0, 60 * 24 * 30)),
                )
            )
        _copy(
            Order,
            ORDER_COLUMNS,
            orders,
        )

        # Draft orders, not in the run: the probe approves some and edits others.
        drafts = [
            (
                order_base + options["orders"] + n,
                f"MD-{n + 1:07d}",
                base + rng.randrange(projects_n),
                "power",
                "original",
                "maintenance",
                5,
                today + datetime.timedelta(days=90),
                False,
                "",
                "draft",
                1,
                1,
                "",
                "",
                "",
                "",
                now,
                now,
                now,
                None,
            )
            for n in range(DRAFTS)
        ]
        _copy(
            Order,
            ORDER_COLUMNS,
            drafts,
        )

        def lines():
            line_id = line_base
            for n, order in enumerate(orders):
                market = project_market[n // len(ORDER_TYPES)]
                for item_id in rng.sample(item_ids, options["lines"]):
                    quantity = rng.randint(1, 10)
                    demand[(market, item_id)] = demand.get((market, item_id), 0) + quantity
                    yield (line_id, order[0], item_id, quantity, "upstream", 0, 0, 0)
                    line_id += 1
            for draft in drafts:
                for item_id in rng.sample(item_ids, DRAFT_LINES):
                    yield (line_id, draft[0], item_id, rng.randint(1, 10), "upstream", 0, 0, 0)
                    line_id += 1

        _copy(
            OrderLine,
            [
                "id",
                "order_id",
                "item_id",
                "quantity",
                "source",
                "allocated_quantity",
                "released_quantity",
                "returned_quantity",
            ],
            lines(),
        )
        on_hand: dict[tuple[int, int], int] = {}
        coverage = options["coverage"]
        for (market, item_id), needed in demand.items():
            first, second = serving[market][:2]
            on_hand[(first.pk, item_id)] = on_hand.get((first.pk, item_id), 0) + round(
                needed * coverage * 2 / 3
            )
            on_hand[(second.pk, item_id)] = on_hand.get((second.pk, item_id), 0) + round(
                needed * coverage / 3
            )
        level_base = _next_id(StockLevel)
        levels = [
            (level_base + n, w, i, q, 0, 0, 0, False, now)
            for n, ((w, i), q) in enumerate(sorted(on_hand.items()))
        ]
        _copy(
            StockLevel,
            [
                "id",
                "warehouse_id",
                "item_id",
                "on_hand",
                "reserved",
                "damaged",
                "minimum_level",
                "below_minimum",
                "updated_at",
            ],
            levels,
        )
        _copy(
            StockMovement,
            [
                "kind",
                "quantity",
                "warehouse_id",
                "item_id",
                "reason",
                "actor_kind",
                "actor_name",
                "correlation_id",
                "created_at",
            ],
            (
                ("receipt", q, w, i, "opening stock (benchmark)", "system", "bench", "", now)
                for _, w, i, q, *_ in levels
                if q > 0
            ),
        )
        with connection.cursor() as cursor:
            for model in (Project, Order, OrderLine, StockLevel):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {
        "orders": len(orders),
        "lines": len(orders) * options["lines"],
        "demand": sum(demand.values()),
        "stock": sum(on_hand.values()),
        "levels": len(levels),
    }


def _next_id(model) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {model._meta.db_table}")
        return cursor.fetchone()[0]


def _copy(model, columns: list[str], rows) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


def run(options: dict) -> dict:
    """One allocation run, asked for as beat asks (tasks run in process here)."""
    from allocation import services
    from allocation.choices import Trigger
    from allocation.models import AllocationRun
    from oms.actors import Actor

    requested = services.allocation_run_request(
        actor=Actor.system("bench"), trigger=Trigger.COMMAND
    )
    run = AllocationRun.objects.get(pk=requested.pk)
    return {
        "run": run.pk,
        "status": run.status,
        "error": run.error,
        "eligible": run.eligible,
        "allocated": run.allocated,
        "short": run.short,
        "rejected": run.rejected,
        "gated": run.gated,
        "changed": run.changed,
        "units_reserved": run.units_reserved,
        "engine_seconds": run.duration_seconds,
    }


# What the probe does, one kind after the other, while the run is going.
PROBE_KINDS = [
    "cancel an order of the run",
    "receive stock of an item in demand",
    "adjust stock of an item in demand",
    "approve a draft order",
    "edit a draft order's line",
]
# Between two writes the probe waits this long (seconds), as a busy office would.
PROBE_PAUSE = 0.1


def probe(options: dict) -> dict:
    """While the run is going (from when it starts running until it has finished),
    make each kind of write of PROBE_KINDS in turn through the services, as
    coordinators, API clients and the warehouse would, and time each call: the
    longest is the longest anyone waited for the run. Cancellations alternate between
    an approved order of the first rank (national priority 1: the orders the run
    writes first) and one the run has already allocated (its stock levels are the ones
    the run is taking from)."""
    import time

    from allocation.choices import Result, RunStatus
    from allocation.models import AllocationOutcome, AllocationRun
    from oms.actors import Actor
    from oms.errors import DomainError
    from orders import services as order_services
    from orders.choices import OrderStatus, ReasonCode
    from orders.models import Order, OrderLine
    from warehouse.ledger.models import StockLevel
    from warehouse.ledger.services import stock_adjust, stock_receive

    rng = random.Random(options["seed"] + 1)
    actor = Actor.system("bench probe")
    deadline = time.monotonic() + options.get("probe_timeout", 900)
    while (run := AllocationRun.objects.exclude(status=RunStatus.QUEUED).first()) is None:
        if time.monotonic() > deadline:
            return {"error": "no run started"}
        time.sleep(0.01)
    if run.status != RunStatus.RUNNING:
        return {"error": "the run finished before the probe was ready"}
    first = list(
        Order.objects.filter(status=OrderStatus.APPROVED, national_priority=1).values_list(
            "pk", flat=True
        )
    )
    rng.shuffle(first)
    levels = list(
        StockLevel.objects.filter(on_hand__gt=0).select_related("warehouse", "item")[:2000]
    )
    drafts = list(Order.objects.filter(status=OrderStatus.DRAFT).values_list("pk", flat=True))
    rng.shuffle(drafts)
    to_approve, to_edit = drafts[: len(drafts) // 2], drafts[len(drafts) // 2 :]
    edit_lines = dict(
        OrderLine.objects.filter(order_id__in=to_edit)
        .order_by("order_id", "pk")
        .values_list("order_id", "pk")
    )
    cancels = 0

    def cancel():
        nonlocal cancels
        cancels += 1
        if cancels % 2:
            pk = first.pop()
        else:
            pk = (
                AllocationOutcome.objects.filter(
                    run=run, result=Result.ALLOCATED, order__status=OrderStatus.ALLOCATED
                )
                .order_by("?")
                .values_list("order_id", flat=True)
                .first()
            ) or first.pop()
        started = time.perf_counter()
        order_services.order_cancel(
            order=Order.objects.get(pk=pk),
            actor=actor,
            reason_code=ReasonCode.NO_LONGER_NEEDED,
            reason_text="site dropped (benchmark probe)",
        )
        return started

    def receive():
        level = rng.choice(levels)
        started = time.perf_counter()
        stock_receive(
            warehouse=level.warehouse, item=level.item, quantity=5, reason="probe", actor=actor
        )
        return started

    adjustments = 0

    def adjust():
        nonlocal adjustments
        adjustments += 1
        level = rng.choice(levels)
        started = time.perf_counter()
        stock_adjust(
            warehouse=level.warehouse,
            item=level.item,
            quantity=1 if adjustments % 2 else -1,
            reason="count (benchmark probe)",
            actor=actor,
        )
        return started

    def approve():
        pk = to_approve.pop()
        started = time.perf_counter()
        order_services.order_approve(order=Order.objects.get(pk=pk), actor=actor)
        return started

    def edit():
        pk = to_edit.pop()
        started = time.perf_counter()
        order_services.order_edit_lines(
            order=Order.objects.get(pk=pk),
            edits=order_services.LineEdits(quantities={edit_lines[pk]: 11}),
            actor=actor,
        )
        return started

    calls = dict(zip(PROBE_KINDS, [cancel, receive, adjust, approve, edit], strict=True))
    waits: dict[str, list[float]] = {kind: [] for kind in PROBE_KINDS}
    refused: dict[str, int] = dict.fromkeys(PROBE_KINDS, 0)
    while AllocationRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).exists():
        for kind, call in calls.items():
            started = time.perf_counter()
            try:
                started = call()
            except IndexError:  # nothing left to do of this kind
                continue
            except DomainError:  # e.g. reserved stock cannot be adjusted away
                refused[kind] += 1
            waits[kind].append(time.perf_counter() - started)
            time.sleep(PROBE_PAUSE)
    return {
        kind: {
            "count": len(values),
            "refused": refused[kind],
            "longest": max(values, default=0.0),
            "median": sorted(values)[len(values) // 2] if values else 0.0,
        }
        for kind, values in waits.items()
    }


PHASES = {"setup": setup, "data": data, "run": run, "probe": probe}


def main(argv=None) -> int:
    name, options = argv if argv is not None else sys.argv[1:]
    django.setup()
    print_phase(lambda: PHASES[name](json.loads(options)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
