"""Ledger check benchmark: `reconcile_stock` over many stock levels and movements.

    make bench-reconcile
    make bench-reconcile ARGS="--warehouses 5 --items 2000"
    .venv/bin/python -m tests.benchmarks.reconcile --help

It makes (or reuses) a PostgreSQL database with warehouses x items stock levels, each
explained by a ledger of movements of every kind (`--cycles` rounds of seven) and held
in part by an active allocation, written with INSERT ... SELECT. It then spoils a few
levels (`--mismatches`), times the check (best of `--runs`) and, as a floor, one plain
scan of the movements table, and prints both with the counts. It fails only when it
cannot run or when the check does not find exactly the spoiled levels.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time

# One cycle of movements per level, and what it leaves: on hand 100 - 5 - 4 + 1 = 92,
# reserved 10 - 4 - 2 = 4 (held by one allocation), damaged 1.
CYCLE = [
    ("receipt", 100),
    ("adjustment", -5),
    ("reserve", 10),
    ("issue", 4),
    ("unreserve", 2),
    ("return", 1),
    ("return_damaged", 1),
]
PER_CYCLE = {"on_hand": 92, "reserved": 4, "damaged": 1}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.reconcile",
        description="Time of reconcile_stock against one scan of the ledger.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--warehouses", type=int, default=20)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--cycles", type=int, default=2, help="rounds of 7 movements a level")
    parser.add_argument("--mismatches", type=int, default=10, help="levels to spoil")
    parser.add_argument("--runs", type=int, default=3, help="timed checks (best is shown)")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/oms_bench_reconcile",
        help="PostgreSQL database for the benchmark; made if missing, reloaded if the "
        "data asked for differs",
    )
    parser.add_argument("--recreate", action="store_true", help="drop and remake it first")
    args = parser.parse_args(argv)
    if min(args.warehouses, args.items, args.cycles, args.runs) < 1 or args.mismatches < 0:
        parser.error("--warehouses, --items, --cycles and --runs need at least 1")
    if args.mismatches > args.warehouses * args.items:
        parser.error("--mismatches cannot exceed the number of stock levels")
    return args


def configure(args) -> None:
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "DATABASE_URL": args.database_url,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "LOG_LEVEL": "WARNING",
        }
    )


def prepare_database(args) -> None:
    import django
    from django.core.management import call_command
    from django.db import connections

    from tests.benchmarks.api import ensure_database

    ensure_database(args.database_url, recreate=args.recreate)
    django.setup()
    call_command("migrate", verbosity=0)

    from warehouse.ledger.models import StockLevel, StockMovement

    levels = args.warehouses * args.items
    movements = levels * args.cycles * len(CYCLE)
    if StockLevel.objects.count() == levels and StockMovement.objects.count() == movements:
        return
    if StockLevel.objects.exists():
        print("The database holds other data: remaking it.", flush=True)
        connections.close_all()
        ensure_database(args.database_url, recreate=True)
        call_command("migrate", verbosity=0)
    print(f"Loading {levels:,} stock levels and {movements:,} movements.", flush=True)
    started = time.monotonic()
    load(args)
    print(f"Loaded in {time.monotonic() - started:.1f}s.", flush=True)


def load(args) -> None:
    """Everything with INSERT ... SELECT: the catalog, one order per warehouse with a
    line per item, the levels, their movements and one allocation per level."""
    from django.db import connection, transaction

    from catalog.models import Item
    from orders.models import Market, Order, OrderLine, Project, Region
    from warehouse.ledger.models import Allocation, StockLevel, StockMovement, Warehouse

    def table(model):
        return connection.ops.quote_name(model._meta.db_table)

    w, i, cycles = args.warehouses, args.items, args.cycles
    kinds = ", ".join(f"('{kind}', {quantity}, {n})" for n, (kind, quantity) in enumerate(CYCLE))
    statements = [
        f"INSERT INTO {table(Region)} (code, name) VALUES ('BENCH', 'Bench')",
        f"""INSERT INTO {table(Market)} (code, name, region_id)
            SELECT 'BENCH', 'Bench', id FROM {table(Region)}""",
        f"""INSERT INTO {table(Project)} (external_id, name, site_code, market_id, status,
                plan_type, created_at, updated_at)
            SELECT 'PRJ-BENCH', '', 'BENCH', id, 'active', 'new_build', now(), now()
            FROM {table(Market)}""",
        f"""INSERT INTO {table(Item)} (code, description, unit, category, lifecycle)
            SELECT 'ITM-' || lpad(n::text, 6, '0'), 'Bench item', 'EA', 'radio', 'active'
            FROM generate_series(1, {i}) n""",
        f"""INSERT INTO {table(Warehouse)} (code, name, active)
            SELECT 'WH' || lpad(n::text, 3, '0'), 'Bench warehouse', true
            FROM generate_series(1, {w}) n""",
        f"""INSERT INTO {table(Order)} (number, project_id, order_type, kind, plan_type,
                national_priority, need_by, gated, gate_reason, status, revision, version,
                reason_code, reason_text, correlation_id, upstream_flag, created_at,
                updated_at, status_changed_at)
            SELECT 'MO-B' || lpad(wh.id::text, 6, '0'), p.id, 'radio', 'original',
                'new_build', 3, current_date, false, '', 'allocated', 1, 1, '', '', '', '',
                now(), now(), now()
            FROM {table(Warehouse)} wh, {table(Project)} p""",
        f"""INSERT INTO {table(OrderLine)} (order_id, item_id, quantity, source,
                allocated_quantity, released_quantity, returned_quantity)
            SELECT o.id, it.id, {4 * cycles}, 'upstream', {4 * cycles}, 0, 0
            FROM {table(Order)} o, {table(Item)} it""",
        f"""INSERT INTO {table(StockLevel)} (warehouse_id, item_id, on_hand, reserved,
                damaged, minimum_level, below_minimum, updated_at)
            SELECT wh.id, it.id, {PER_CYCLE["on_hand"] * cycles},
                {PER_CYCLE["reserved"] * cycles}, {PER_CYCLE["damaged"] * cycles}, 0, false,
                now()
            FROM {table(Warehouse)} wh, {table(Item)} it""",
        f"""INSERT INTO {table(StockMovement)} (kind, quantity, warehouse_id, item_id,
                order_line_id, reason, actor_kind, actor_name, correlation_id, created_at)
            SELECT k.kind, k.quantity, s.warehouse_id, s.item_id, NULL, 'bench', 'system',
                'bench', '', now() + (c * 7 + k.n) * interval '1 microsecond'
            FROM {table(StockLevel)} s, generate_series(1, {cycles}) c,
                (VALUES {kinds}) AS k(kind, quantity, n)
            ORDER BY s.id, c, k.n""",
        f"""INSERT INTO {table(Allocation)} (order_line_id, stock_level_id, quantity, status,
                created_at)
            SELECT l.id, s.id, l.quantity, 'active', now()
            FROM {table(StockLevel)} s
            JOIN {table(Order)} o ON o.number = 'MO-B' || lpad(s.warehouse_id::text, 6, '0')
            JOIN {table(OrderLine)} l ON l.order_id = o.id AND l.item_id = s.item_id""",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def spoil(count: int) -> list[int]:
    """Change the on hand of `count` levels behind the ledger's back; returns their ids."""
    from django.db.models import F

    from warehouse.ledger.models import StockLevel

    ids = list(StockLevel.objects.order_by("?").values_list("pk", flat=True)[:count])
    StockLevel.objects.filter(pk__in=ids).update(on_hand=F("on_hand") + 1)
    return ids


def unspoil(ids: list[int]) -> None:
    from django.db.models import F

    from warehouse.ledger.models import StockLevel

    StockLevel.objects.filter(pk__in=ids).update(on_hand=F("on_hand") - 1)


def time_check(runs: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from warehouse.ledger.reconcile import reconcile_stock

    best, result, queries = None, None, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = reconcile_stock()
            elapsed = time.perf_counter() - started
        queries = len(captured.captured_queries)
        best = elapsed if best is None else min(best, elapsed)
    return best, result, queries


def time_floor(runs: int) -> float:
    """One plain scan of the movements: the least any check of the ledger reads."""
    from django.db import connection

    from warehouse.ledger.models import StockMovement

    best = None
    with connection.cursor() as cursor:
        for _ in range(runs):
            started = time.perf_counter()
            cursor.execute(f"SELECT count(*), sum(quantity) FROM {StockMovement._meta.db_table}")
            cursor.fetchone()
            elapsed = time.perf_counter() - started
            best = elapsed if best is None else min(best, elapsed)
    return best


def main(argv=None) -> int:
    args = parse_args(argv)
    configure(args)
    prepare_database(args)

    from warehouse.ledger.models import StockLevel

    spoiled = spoil(args.mismatches)
    try:
        seconds, result, queries = time_check(args.runs)
        floor = time_floor(args.runs)
    finally:
        unspoil(spoiled)
    found = {(d.warehouse, d.item) for d in result.differences}
    expected = {
        (level.warehouse.code, level.item.code)
        for level in StockLevel.objects.select_related("warehouse", "item").filter(pk__in=spoiled)
    }
    print()
    print(f"stock levels          {result.levels:>12,}")
    print(f"movements             {result.movements:>12,}")
    print(f"differences found     {len(result.differences):>12,}  (spoiled {len(spoiled):,})")
    print(f"queries               {queries:>12,}")
    print(f"reconcile_stock       {seconds:>11.2f}s  (best of {args.runs})")
    print(f"floor: one scan       {floor:>11.2f}s  (count and sum of every movement)")
    print(f"levels per second     {result.levels / seconds:>12,.0f}")
    print(f"movements per second  {result.movements / seconds:>12,.0f}")
    if found != expected or len(result.differences) != len(spoiled):
        print("The check did not find exactly the spoiled levels.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
