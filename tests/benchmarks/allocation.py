"""Allocation benchmark: one run over many approved orders, against a floor.

    make bench-alloc
    make bench-alloc ARGS="--orders 5000"
    .venv/bin/python -m tests.benchmarks.allocation --help

It remakes a PostgreSQL database and, each in a fresh process with production settings
(tests/benchmarks/allocation_phase.py), migrates it, writes the data with COPY (not
through the services: markets served by ranked warehouses, items, approved orders
with their lines, stock covering part of the demand with its receipts in the ledger),
and runs one allocation run through the services, as beat would (tasks in process).

The floor, timed in this process with psycopg 3: reading the same demand rows the run
reads (the approved orders, their lines, the stock levels of the items in demand;
before the run, so the rows are the same), plus COPYing as many rows as the run wrote,
the same rows, into tables made with LIKE ... INCLUDING ALL (the same columns,
defaults, checks, indexes and storage parameters, no foreign keys): the allocations,
the ledger movements, the outcomes, the outbox events, the history rows, and one row
per order, line and stock level the run updated. While the run goes, a
probe (another process, through the services) cancels orders of the run, receives and
adjusts stock of items in demand, approves draft orders and edits a draft's line, one
after the other, and times each call. It prints wall time, peak memory, orders
allocated, the ratio to the floor, the longest wait of each kind of write, whether the
targets hold, and checks that the stock adds up. It fails only when it cannot run.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time

from tests.benchmarks.api import BenchError, ensure_database
from tests.benchmarks.phases import finish_phase, phase_env, run_phase, start_phase, verdict
from tests.benchmarks.tables import create_like

PHASE_MODULE = "tests.benchmarks.allocation_phase"

MAX_SECONDS = 30.0
MAX_RATIO = 3.0
MAX_PEAK_MIB = 1536.0
# Nobody waits longer than this for a run (the probe's longest call of each kind).
MAX_WAIT_SECONDS = 1.0

# What the run reads (allocation.engine.demand), as plain SQL.
DEMAND_QUERIES = [
    "SELECT o.id, o.number, o.version, o.national_priority, o.plan_type, o.order_type, "
    "o.need_by, o.approved_at, p.market_id, o.gated, o.gate_reason FROM orders_order o "
    "JOIN orders_project p ON p.id = o.project_id WHERE o.status = 'approved'",
    "SELECT l.order_id, l.id, l.item_id, l.quantity, l.released_quantity, "
    "l.returned_quantity, l.allocated_quantity FROM orders_orderline l "
    "JOIN orders_order o ON o.id = l.order_id WHERE o.status = 'approved' AND NOT o.gated",
    "SELECT id, warehouse_id, item_id, on_hand, reserved FROM warehouse_stocklevel "
    "WHERE item_id IN (SELECT DISTINCT l.item_id FROM orders_orderline l JOIN orders_order o "
    "ON o.id = l.order_id WHERE o.status = 'approved') ORDER BY id",
]
# What the run wrote: (table, rows of it the run wrote or updated).
WRITTEN = [
    ("allocation_allocation", "TRUE"),
    ("warehouse_stockmovement", "kind = 'reserve'"),
    ("allocation_allocationoutcome", "TRUE"),
    ("oms_outboxevent", "event_type IN ('order.allocated', 'stock.below_minimum')"),
    ("orders_historicalorder", "actor_name LIKE 'allocation run #%'"),
    ("orders_historicalorderline", "actor_name LIKE 'allocation run #%'"),
    ("orders_order", "status = 'allocated'"),
    ("orders_orderline", "allocated_quantity > 0"),
    ("warehouse_stocklevel", "reserved > 0"),
]
CHECKS = [
    (
        "levels whose reserved is not their allocations",
        "SELECT count(*) FROM warehouse_stocklevel l LEFT JOIN (SELECT stock_level_id, "
        "sum(quantity) AS q FROM allocation_allocation WHERE status = 'active' GROUP BY 1) a "
        "ON a.stock_level_id = l.id WHERE coalesce(a.q, 0) <> l.reserved",
        lambda run: 0,
    ),
    (
        "levels the ledger does not explain",
        "SELECT count(*) FROM warehouse_stocklevel l LEFT JOIN (SELECT warehouse_id, item_id, "
        "sum(CASE WHEN kind IN ('receipt', 'adjustment', 'return') THEN quantity "
        "WHEN kind = 'issue' THEN -quantity ELSE 0 END) AS on_hand, "
        "sum(CASE WHEN kind IN ('reserve') THEN quantity WHEN kind IN ('unreserve', 'issue') "
        "THEN -quantity ELSE 0 END) AS reserved FROM warehouse_stockmovement GROUP BY 1, 2) m "
        "ON m.warehouse_id = l.warehouse_id AND m.item_id = l.item_id "
        "WHERE coalesce(m.on_hand, 0) <> l.on_hand OR coalesce(m.reserved, 0) <> l.reserved",
        lambda run: 0,
    ),
    (
        "levels reserving more than on hand",
        "SELECT count(*) FROM warehouse_stocklevel WHERE reserved > on_hand",
        lambda run: 0,
    ),
    (
        "orders allocated (less those the probe cancelled)",
        "SELECT count(*) FROM orders_order WHERE status = 'allocated'",
        lambda run: run["allocated"] - run["cancelled_after"],
    ),
    (
        "allocated orders with a line not fully held",
        "SELECT count(DISTINCT o.id) FROM orders_order o JOIN orders_orderline l "
        "ON l.order_id = o.id WHERE o.status = 'allocated' AND l.allocated_quantity <> "
        "l.quantity",
        lambda run: 0,
    ),
    (
        "outcomes",
        "SELECT count(*) FROM allocation_allocationoutcome",
        lambda run: run["eligible"] + run["gated"],
    ),
]

# Orders the run allocated that the probe cancelled after.
CANCELLED_AFTER = (
    "SELECT count(*) FROM allocation_allocationoutcome a JOIN orders_order o ON o.id = "
    "a.order_id WHERE a.run_id = %s AND a.result = 'allocated' AND o.status = 'cancelled'"
)
PROBE_PAUSE_NOTE = "each kind in turn, 100 ms apart, timed from the call to its return"

HEADER = """\
Allocation on {server}: {orders:,} approved orders of {lines} lines ({all_lines:,} lines), \
{items:,} items, {warehouses} warehouses serving {markets} markets (3 each, ranked), stock \
{stock:,} units for a demand of {demand:,} ({coverage:.0%}), in {levels:,} stock levels; \
seed {seed}.
The run: allocation_run_request + execution (tasks in process), in a fresh process with
DEBUG off and LOG_LEVEL=WARNING; seconds exclude Django's start-up, peak memory
(ru_maxrss) includes it. Split across warehouses: {split}.
The floor, in this process with psycopg 3: the run's demand queries with every row
fetched, and COPY of the rows the run wrote, the same rows, into LIKE ... INCLUDING ALL
copies of their tables (with their storage parameters)."""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.allocation",
        description="Benchmark an allocation run against a read-and-COPY floor.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--orders", type=int, default=50_000, help="approved orders")
    parser.add_argument("--lines", type=int, default=20, help="lines per order")
    parser.add_argument("--items", type=int, default=5_000, help="catalog items")
    parser.add_argument("--warehouses", type=int, default=10, help="warehouses")
    parser.add_argument("--markets", type=int, default=5, help="markets")
    parser.add_argument(
        "--coverage", type=float, default=0.6, help="stock as a share of the demand"
    )
    parser.add_argument("--split", action="store_true", help="OMS_ALLOCATION_SPLIT on")
    parser.add_argument("--seed", type=int, default=1, help="seed of the data")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/oms_bench_alloc",
        help="PostgreSQL database for the benchmark; always dropped and made again",
    )
    args = parser.parse_args(argv)
    if args.orders < 1 or not 1 <= args.lines <= args.items or args.warehouses < 3:
        parser.error("need orders >= 1, 1 <= lines <= items and at least 3 warehouses")
    return args


def floor_read(conn) -> tuple[float, int]:
    started = time.perf_counter()
    rows = 0
    with conn.transaction():
        for query in DEMAND_QUERIES:
            rows += len(conn.execute(query).fetchall())
    return time.perf_counter() - started, rows


def written_rows(conn) -> list[tuple[str, int, bytes]]:
    """The rows the run wrote, as COPY text, per table (not timed)."""
    out = []
    for table, condition in WRITTEN:
        buffer = io.BytesIO()
        with conn.cursor().copy(
            f"COPY (SELECT * FROM {table} WHERE {condition}) TO STDOUT"
        ) as copy:
            for chunk in copy:
                buffer.write(chunk)
        count = conn.execute(f"SELECT count(*) FROM {table} WHERE {condition}").fetchone()[0]
        out.append((table, count, buffer.getvalue()))
    return out


def floor_write(conn, written) -> float:
    for table, _, _ in written:
        create_like(conn, table, f"bench_floor_{table}")
    started = time.perf_counter()
    with conn.transaction():
        for table, _, data in written:
            with conn.cursor().copy(f"COPY bench_floor_{table} FROM STDIN") as copy:
                copy.write(data)
    return time.perf_counter() - started


def report(args, server, data, run, read, write, written, checks, probe) -> None:
    result = run.result
    floor = read[0] + write
    print()
    print(
        HEADER.format(
            server=server,
            orders=data["orders"],
            lines=args.lines,
            all_lines=data["lines"],
            items=args.items,
            warehouses=args.warehouses,
            markets=args.markets,
            stock=data["stock"],
            demand=data["demand"],
            coverage=data["stock"] / data["demand"],
            levels=data["levels"],
            seed=args.seed,
            split="on" if args.split else "off",
        )
    )
    print()
    print(
        f"Run #{result['run']} {result['status']}: {result['eligible']:,} eligible, "
        f"{result['allocated']:,} allocated, {result['short']:,} short, "
        f"{result['rejected']:,} rejected, {result['gated']:,} gated, "
        f"{result['changed']:,} changed; {result['units_reserved']:,} units reserved."
    )
    if result["error"]:
        print(f"Error: {result['error']}")
    print()
    print(f"{'':<28}{'seconds':>9}")
    print(f"{'run (wall)':<28}{run.seconds:>9.2f}")
    print(f"{'  of which the engine':<28}{result['engine_seconds'] or 0:>9.2f}")
    print(f"{'floor: read demand':<28}{read[0]:>9.2f}   ({read[1]:,} rows)")
    rows = sum(count for _, count, _ in written)
    print(f"{'floor: COPY written rows':<28}{write:>9.2f}   ({rows:,} rows)")
    print(f"{'floor':<28}{floor:>9.2f}")
    print()
    print("Rows the run wrote or updated")
    for table, count, _ in written:
        print(f"  {table:<34}{count:>10,}")
    print()
    print("Targets")
    print(
        f"  wall time     {run.seconds:>8.1f} s        (target <= {MAX_SECONDS:.0f} s: "
        f"{verdict(run.seconds <= MAX_SECONDS)})"
    )
    ratio = run.seconds / floor
    print(
        f"  x the floor   {ratio:>8.1f}          (target <= {MAX_RATIO:.0f}x: "
        f"{verdict(ratio <= MAX_RATIO)})"
    )
    print(
        f"  peak memory   {run.peak_mib:>8.0f} MiB      (target < {MAX_PEAK_MIB:.0f} MiB: "
        f"{verdict(run.peak_mib < MAX_PEAK_MIB)})"
    )
    print(f"  orders allocated {result['allocated']:,} of {result['eligible']:,}")
    print()
    print(
        f"Waits during the run (the probe, {PROBE_PAUSE_NOTE}): longest of each kind, "
        f"target <= {MAX_WAIT_SECONDS:.0f} s"
    )
    waits = probe.result
    if "error" in waits:
        print(f"  the probe did not run: {waits['error']}")
    for kind, figures in waits.items():
        if not isinstance(figures, dict):
            continue
        print(
            f"  {kind:<38}{figures['longest']:>7.3f} s longest, {figures['median']:.3f} s "
            f"median, {figures['count']:>5} calls ({figures['refused']} refused): "
            f"{verdict(figures['longest'] <= MAX_WAIT_SECONDS)}"
        )
    print()
    print("Checks")
    for label, found, expected in checks:
        state = "ok" if found == expected else "WRONG"
        print(f"  {label:<48}{found:>10,}  (expected {expected:,}: {state})")


def main(argv=None) -> int:
    import psycopg

    args = parse_args(argv)
    env = phase_env(args.database_url, OMS_ALLOCATION_SPLIT="true" if args.split else "false")
    options = {
        "orders": args.orders,
        "lines": args.lines,
        "items": args.items,
        "warehouses": args.warehouses,
        "markets": args.markets,
        "coverage": args.coverage,
        "seed": args.seed,
    }
    try:
        ensure_database(args.database_url, recreate=True)
        run_phase(PHASE_MODULE, "setup", json.dumps(options), env)
        data = run_phase(PHASE_MODULE, "data", json.dumps(options), env).result
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            version = conn.info.server_version
            server = f"PostgreSQL {version // 10000}.{version % 10000}"
            print("floor, reading the demand: running.", flush=True)
            read = floor_read(conn)
            prober = start_phase(PHASE_MODULE, "probe", json.dumps(options), env)
            try:
                run = run_phase(PHASE_MODULE, "run", json.dumps(options), env)
            except BaseException:
                prober.kill()
                raise
            probe = finish_phase(prober, "probe")
            run.result["cancelled_after"] = conn.execute(
                CANCELLED_AFTER, [run.result["run"]]
            ).fetchone()[0]
            written = written_rows(conn)
            print("floor, COPY of the written rows: running.", flush=True)
            write = floor_write(conn, written)
            checks = [
                (label, conn.execute(sql).fetchone()[0], expected(run.result))
                for label, sql, expected in CHECKS
            ]
    except (BenchError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    report(args, server, data, run, read, write, written, checks, probe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
