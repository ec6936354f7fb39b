"""Ingestion benchmark: projects, new orders and revisions from upstream files, through
the real commands, against a COPY floor.

    make bench-ingest
    make bench-ingest ARGS="--projects 1000"
    .venv/bin/python -m tests.benchmarks.ingestion --help

It writes synthetic upstream files (orders.upstream_samples, as `manage.py
generate_upstream` does), remakes a PostgreSQL database and runs each phase in a fresh
process with production settings (tests/benchmarks/ingestion_phase.py): setup (migrate,
markets, catalog items), projects (`import_projects`), new orders (`ingest_events` of the
design_approved events) and revisions (`ingest_events` of the bom_revised events). Then
it times a floor for the last two: the same rows written with COPY by psycopg 3. It
prints wall time, rows/s, peak memory and the ratio to the floor per phase, whether the
targets hold, and checks that the data arrived. It fails only when it cannot run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from orders import upstream_samples
from orders.upstream_samples import DESIGNS_FILE, REVISIONS_FILE, MarketCode, Written
from tests.benchmarks.api import BenchError, ensure_database
from tests.benchmarks.phases import phase_env, run_phase, verdict
from tests.benchmarks.tables import create_like

PHASE_MODULE = "tests.benchmarks.ingestion_phase"

REGIONS = [("BXE", "Bench east"), ("BXW", "Bench west")]
MARKETS = [("BX1", "BXE"), ("BX2", "BXE"), ("BX3", "BXW"), ("BX4", "BXW")]

MAX_NEW_ORDERS_RATIO = 8.0
MAX_REVISIONS_RATIO = 10.0
MAX_PEAK_MIB = 1024.0
# The phases the targets are about (setup prepares the database).
MEASURED = ("projects", "new orders", "revisions")

# The floor's tables: (OMS's table, the floor's copy of it).
FLOOR_TABLES = [
    ("orders_order", "bench_floor_order"),
    ("orders_orderline", "bench_floor_line"),
    ("orders_orderrevision", "bench_floor_revision"),
]
ORDER_COLUMNS = (
    "id, number, project_id, order_type, kind, plan_type, national_priority, need_by, gated, "
    "gate_reason, status, revision, version, reason_code, reason_text, correlation_id, "
    "upstream_flag, created_at, updated_at, status_changed_at"
)
LINE_COLUMNS = (
    "order_id, item_id, quantity, source, allocated_quantity, released_quantity, returned_quantity"
)
REVISION_STATEMENTS = [
    "ANALYZE bench_floor_bom",
    "ANALYZE bench_floor_event",
    """
    CREATE TEMP TABLE bench_floor_change ON COMMIT DROP AS
    SELECT coalesce(n.order_id, l.order_id) AS order_id,
           coalesce(n.item_id, l.item_id) AS item_id,
           l.quantity AS old_quantity,
           n.quantity AS new_quantity
    FROM bench_floor_bom n
    FULL JOIN (
        SELECT order_id, item_id, quantity FROM bench_floor_line
        WHERE order_id IN (SELECT order_id FROM bench_floor_event)
    ) l ON l.order_id = n.order_id AND l.item_id = n.item_id
    WHERE n.quantity IS DISTINCT FROM l.quantity
    """,
    """
    UPDATE bench_floor_line l SET quantity = c.new_quantity
    FROM bench_floor_change c
    WHERE l.order_id = c.order_id AND l.item_id = c.item_id
      AND c.old_quantity IS NOT NULL AND c.new_quantity IS NOT NULL
    """,
    """
    DELETE FROM bench_floor_line l USING bench_floor_change c
    WHERE l.order_id = c.order_id AND l.item_id = c.item_id AND c.new_quantity IS NULL
    """,
    f"""
    INSERT INTO bench_floor_line ({LINE_COLUMNS})
    SELECT order_id, item_id, new_quantity, 'upstream', 0, 0, 0
    FROM bench_floor_change WHERE old_quantity IS NULL
    """,
    """
    UPDATE bench_floor_order o
    SET revision = o.revision + 1, version = o.version + 1, updated_at = now()
    FROM bench_floor_event e WHERE o.id = e.order_id
    """,
    """
    INSERT INTO bench_floor_revision (
        order_id, number, source, event_id, delta, actor_kind, actor_name, correlation_id,
        created_at
    )
    SELECT e.order_id, o.revision, 'upstream', e.event_id,
           jsonb_build_object('lines', jsonb_build_object(
               'added', coalesce(jsonb_agg(
                   jsonb_build_object('item', i.code, 'quantity', c.new_quantity)
               ) FILTER (WHERE c.old_quantity IS NULL), '[]'),
               'removed', coalesce(jsonb_agg(
                   jsonb_build_object('item', i.code, 'quantity', c.old_quantity)
               ) FILTER (WHERE c.new_quantity IS NULL), '[]'),
               'changed', coalesce(jsonb_agg(
                   jsonb_build_object(
                       'item', i.code,
                       'quantity', jsonb_build_array(c.old_quantity, c.new_quantity)
                   )
               ) FILTER (WHERE c.old_quantity IS NOT NULL AND c.new_quantity IS NOT NULL),
               '[]')
           )),
           'system', 'bench', left(e.event_id, 64), now()
    FROM bench_floor_event e
    JOIN bench_floor_order o ON o.id = e.order_id
    LEFT JOIN bench_floor_change c ON c.order_id = e.order_id
    LEFT JOIN catalog_item i ON i.id = c.item_id
    GROUP BY e.order_id, o.revision, e.event_id
    """,
]

HEADER = """\
Ingestion on {server}: {projects:,} projects, {lines} lines per design, {items:,} items \
(seed {seed}).
Each phase runs in a fresh process (tests/benchmarks/ingestion_phase.py) with DEBUG off,
Celery in process, LOG_LEVEL=WARNING:
  setup       migrate; {markets} markets; catalog items with bulk_create
  projects    import_projects projects.parquet --no-progress
  new orders  ingest_events design_approved.jsonl --no-progress ({projects:,} events, \
{design_lines:,} lines)
  revisions   ingest_events bom_revised.jsonl --no-progress ({projects:,} events, \
{revised_lines:,} lines: {changed:,} changed, {added:,} added, {removed:,} removed)
Peak memory: getrusage(RUSAGE_SELF).ru_maxrss of the phase's process, Django's start-up
included. Seconds: the phase's work, Django's start-up not included.
Floors, timed in this process with psycopg 3, reading and parsing the same file included;
the tables are made with LIKE ... INCLUDING ALL (the same columns, defaults, checks,
indexes and storage parameters as OMS's tables, no foreign keys, no history, no events
stored):
  new orders  COPY the order rows and the line rows into bench_floor_order and
              bench_floor_line, ids given by the client.
  revisions   COPY every line of the revised designs into a temp table, then in SQL:
              find the changed, added and removed lines, apply them to bench_floor_line,
              bump each order's revision and version, and insert one revision row per
              order with its delta (bench_floor_revision).
rows/s counts projects or orders; lines/s counts the lines in the events (for revisions
every line of the revised designs, of which about a tenth changed)."""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.ingestion",
        description="Benchmark project import and design event ingestion against a COPY floor.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--projects", type=int, default=10_000, help="projects (one order each)")
    parser.add_argument("--lines", type=int, default=20, help="item lines per design")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated files")
    parser.add_argument(
        "--items", type=int, default=upstream_samples.ITEM_POOL, help="catalog items"
    )
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/oms_bench_ingest",
        help="PostgreSQL database for the benchmark; always dropped and made again",
    )
    parser.add_argument(
        "--keep-files",
        type=Path,
        metavar="FOLDER",
        help="keep the generated files in this folder (none: a temporary folder, removed "
        "afterwards)",
    )
    args = parser.parse_args(argv)
    if args.projects < 1 or args.lines < 1:
        parser.error("--projects and --lines must be at least 1")
    return args


@contextmanager
def data_folder(args):
    if args.keep_files:
        yield args.keep_files
        return
    with tempfile.TemporaryDirectory(prefix="oms-bench-ingest-") as folder:
        yield Path(folder)


# --- Floor ------------------------------------------------------------------------------


def floor_new_orders(conn, folder: Path) -> float:
    """COPY the order and line rows the design_approved events make; returns seconds."""
    started = time.perf_counter()
    with conn.transaction():
        projects = dict(conn.execute("SELECT external_id, id FROM orders_project"))
        items = dict(conn.execute("SELECT code, id FROM catalog_item"))
        now = datetime.datetime.now(datetime.UTC)
        lines = []
        with (
            (folder / DESIGNS_FILE).open(encoding="utf-8") as file,
            conn.cursor() as cursor,
            cursor.copy(f"COPY bench_floor_order ({ORDER_COLUMNS}) FROM STDIN") as copy,
        ):
            for order_id, text in enumerate(file, start=1):
                event = json.loads(text)
                copy.write_row(
                    (
                        order_id,
                        f"MO-{order_id:07d}",
                        projects[event["project_id"]],
                        event["order_type"],
                        "original",
                        event["plan_type"],
                        event["national_priority"],
                        datetime.date.fromisoformat(event["need_by"]),
                        False,
                        "",
                        "draft",
                        1,
                        1,
                        "",
                        "",
                        event["event_id"][:64],
                        "",
                        now,
                        now,
                        now,
                    )
                )
                lines.extend(
                    (order_id, items[line["item"]], line["quantity"], "upstream", 0, 0, 0)
                    for line in event["items"]
                )
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY bench_floor_line ({LINE_COLUMNS}) FROM STDIN") as copy,
        ):
            for row in lines:
                copy.write_row(row)
    return time.perf_counter() - started


def floor_revisions(conn, folder: Path) -> float:
    """COPY the revised designs and apply them in SQL; returns seconds."""
    started = time.perf_counter()
    with conn.transaction():
        orders = dict(
            conn.execute(
                "SELECT p.external_id, o.id FROM bench_floor_order o "
                "JOIN orders_project p ON p.id = o.project_id"
            )
        )
        items = dict(conn.execute("SELECT code, id FROM catalog_item"))
        conn.execute(
            "CREATE TEMP TABLE bench_floor_bom (order_id bigint, item_id bigint, "
            "quantity integer) ON COMMIT DROP"
        )
        conn.execute(
            "CREATE TEMP TABLE bench_floor_event (order_id bigint, event_id varchar(100)) "
            "ON COMMIT DROP"
        )
        events = []
        with (
            (folder / REVISIONS_FILE).open(encoding="utf-8") as file,
            conn.cursor() as cursor,
            cursor.copy("COPY bench_floor_bom (order_id, item_id, quantity) FROM STDIN") as copy,
        ):
            for text in file:
                event = json.loads(text)
                order_id = orders[event["project_id"]]
                events.append((order_id, event["event_id"]))
                for line in event["items"]:
                    copy.write_row((order_id, items[line["item"]], line["quantity"]))
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bench_floor_event (order_id, event_id) FROM STDIN") as copy,
        ):
            for row in events:
                copy.write_row(row)
        for statement in REVISION_STATEMENTS:
            conn.execute(statement)
    return time.perf_counter() - started


# --- Checks -----------------------------------------------------------------------------


def count(conn, sql: str) -> int:
    return conn.execute(sql).fetchone()[0]


def checks_after_new_orders(conn, written: Written) -> list[tuple[str, int, int]]:
    return [
        (
            "orders after new orders",
            count(conn, "SELECT count(*) FROM orders_order"),
            written.projects,
        ),
        (
            "lines after new orders",
            count(conn, "SELECT count(*) FROM orders_orderline"),
            written.design_lines,
        ),
        (
            "floor lines after new orders",
            count(conn, "SELECT count(*) FROM bench_floor_line"),
            written.design_lines,
        ),
    ]


def checks_after_revisions(conn, written: Written) -> list[tuple[str, int, int]]:
    return [
        (
            "lines after revisions",
            count(conn, "SELECT count(*) FROM orders_orderline"),
            written.revised_lines,
        ),
        (
            "historical order rows (2 per order)",
            count(conn, "SELECT count(*) FROM orders_historicalorder"),
            2 * written.projects,
        ),
        (
            "revisions numbered 2",
            count(conn, "SELECT count(*) FROM orders_orderrevision WHERE number = 2"),
            written.projects,
        ),
        (
            "design events processed",
            count(conn, "SELECT count(*) FROM orders_designevent WHERE status = 'processed'"),
            2 * written.projects,
        ),
        (
            "design events invalid",
            count(conn, "SELECT count(*) FROM orders_designevent WHERE status = 'invalid'"),
            0,
        ),
        (
            "floor lines after revisions",
            count(conn, "SELECT count(*) FROM bench_floor_line"),
            written.revised_lines,
        ),
        (
            "floor revision rows",
            count(conn, "SELECT count(*) FROM bench_floor_revision"),
            written.projects,
        ),
    ]


# --- Report -----------------------------------------------------------------------------


def report(args, server, written: Written, phases, floors, checks) -> None:
    print()
    print(
        HEADER.format(
            server=server,
            projects=written.projects,
            lines=args.lines,
            items=written.items,
            seed=args.seed,
            markets=len(MARKETS),
            design_lines=written.design_lines,
            revised_lines=written.revised_lines,
            changed=written.changed_lines,
            added=written.added_lines,
            removed=written.removed_lines,
        )
    )
    print()
    rows = {
        "projects": written.projects,
        "new orders": written.projects,
        "revisions": written.projects,
    }
    lines = {"new orders": written.design_lines, "revisions": written.revised_lines}
    print(
        f"{'phase':<12}{'seconds':>9}{'rows':>9}{'rows/s':>9}{'lines/s':>10}"
        f"{'peak MiB':>10}{'floor s':>9}{'x floor':>9}"
    )
    for name, phase in phases.items():
        cells = [f"{name:<12}", f"{phase.seconds:>9.1f}"]
        cells.append(f"{rows[name]:>9,}" if name in rows else f"{'-':>9}")
        cells.append(f"{rows[name] / phase.seconds:>9,.0f}" if name in rows else f"{'-':>9}")
        cells.append(f"{lines[name] / phase.seconds:>10,.0f}" if name in lines else f"{'-':>10}")
        cells.append(f"{phase.peak_mib:>10.0f}")
        if name in floors:
            cells += [f"{floors[name]:>9.2f}", f"{phase.seconds / floors[name]:>9.1f}"]
        else:
            cells += [f"{'-':>9}", f"{'-':>9}"]
        print("".join(cells))
    print()
    print("Targets")
    for name, limit in (("new orders", MAX_NEW_ORDERS_RATIO), ("revisions", MAX_REVISIONS_RATIO)):
        ratio = phases[name].seconds / floors[name]
        print(
            f"  {name:<12}{ratio:>8.1f} x the floor   "
            f"(target <= {limit:.0f}x: {verdict(ratio <= limit)})"
        )
    worst = max(MEASURED, key=lambda name: phases[name].peak_mib)
    peak = phases[worst].peak_mib
    print(
        f"  {'peak memory':<12}{peak:>8.0f} MiB ({worst})   "
        f"(target < {MAX_PEAK_MIB:.0f} MiB: {verdict(peak < MAX_PEAK_MIB)})"
    )
    print()
    print("Checks")
    for label, found, expected in checks:
        state = "ok" if found == expected else "WRONG"
        print(f"  {label:<38}{found:>10,}  (expected {expected:,}: {state})")
    print()
    print("The commands printed")
    for name, phase in phases.items():
        for text in phase.result.splitlines() or [""]:
            print(f"  {name:<12}{text}")
            name = ""


def main(argv=None) -> int:
    import psycopg

    args = parse_args(argv)
    env = phase_env(args.database_url)
    markets = [MarketCode(code, region) for code, region in MARKETS]
    try:
        with data_folder(args) as folder:
            print(f"Writing the upstream files into {folder}.", flush=True)
            started = time.perf_counter()
            written = upstream_samples.write_upstream(
                folder,
                projects=args.projects,
                lines=args.lines,
                seed=args.seed,
                markets=markets,
                items=args.items,
            )
            print(f"Written in {time.perf_counter() - started:.1f}s.", flush=True)
            ensure_database(args.database_url, recreate=True)

            phases, floors, checks = {}, {}, []
            for name in ("setup", "projects", "new orders"):
                phases[name] = run_phase(PHASE_MODULE, name, str(folder), env)
            with psycopg.connect(args.database_url, autocommit=True) as conn:
                version = conn.info.server_version
                server = f"PostgreSQL {version // 10000}.{version % 10000}"
                for source, name in FLOOR_TABLES:
                    create_like(conn, source, name)
                print("floor of new orders: running.", flush=True)
                floors["new orders"] = floor_new_orders(conn, folder)
                checks += checks_after_new_orders(conn, written)

                phases["revisions"] = run_phase(PHASE_MODULE, "revisions", str(folder), env)
                print("floor of revisions: running.", flush=True)
                floors["revisions"] = floor_revisions(conn, folder)
                checks += checks_after_revisions(conn, written)
    except (BenchError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    report(args, server, written, phases, floors, checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
