"""Back-office benchmark: server time of the order queue and order detail pages.

    make bench-ui
    make bench-ui ARGS="--orders 10000 --requests 50"
    .venv/bin/python -m tests.benchmarks.backoffice --help

It makes (or reuses) a PostgreSQL database with the given number of orders
(tests/benchmarks/data.py), each with its audit history (created, then one change per
status step) and its first revision. Signed in as a coordinator, it requests each page
kind in process through Django's test client with production settings (DEBUG off, static
files collected into a temporary folder for the manifest storage), so every request runs
the whole middleware stack, and times each request after a warm-up.
The queue is asked with each of its controls: search by a number's start or any part of
it, a site code, a site name, an item description; status, market, need-by range,
assignee (every tenth order is the benchmark coordinator's), several filters at once
with 200 rows a page, deep pages; and the live-update polls of the queue and of an
order page holding an unchanged ETag (each must answer 304).
It prints p50, p95 and max server time and the queries per request of each page kind,
and whether p95 stays within the target. For the slowest page over the target it prints
PostgreSQL's execution time of that page's slowest query. A request answered otherwise
than expected (200, or 304 for a poll) stops it with an error.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import quote

from tests.benchmarks.api import BenchError, ensure_database

MAX_P95_MS = 150.0
HISTORY_CHUNK = 10_000
SEARCH_PREFIXES = 20

FORWARD = ["approved", "allocated", "released", "closed"]
# The status changes that brought an order to its current status.
STATUS_STEPS = {
    "draft": [],
    "approved": FORWARD[:1],
    "allocated": FORWARD[:2],
    "released": FORWARD[:3],
    "closed": FORWARD,
    "partially_returned": [*FORWARD, "partially_returned"],
    "fully_returned": [*FORWARD, "fully_returned"],
    "cancelled": ["cancelled"],
}


@dataclass(frozen=True)
class Result:
    requests: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    queries: int


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.backoffice",
        description="Server time of the back-office order queue and order detail pages.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--orders", type=int, default=100_000, help="orders in the database")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page kind")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per page kind")
    parser.add_argument("--deep-page", type=int, default=500, help="page of the deep queue page")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/oms_bench_ui",
        help="PostgreSQL database for the benchmark; made if missing, reloaded if the "
        "number of orders differs",
    )
    parser.add_argument(
        "--recreate", action="store_true", help="drop and remake the database first"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed for the pages requested")
    parser.add_argument(
        "--skip-exports", action="store_true", help="leave out the exports of every order"
    )
    args = parser.parse_args(argv)
    if args.requests < 2 or args.warmup < 0 or args.orders < 1:
        parser.error("--requests needs at least 2, --orders at least 1, --warmup at least 0")
    return args


def configure(args) -> None:
    """Production settings, served in process to Django's test client."""
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings",
            "DATABASE_URL": args.database_url,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
        }
    )


# --- Database ---------------------------------------------------------------------------


def prepare_database(args) -> None:
    import django
    from django.core.management import call_command
    from django.db import connections

    ensure_database(args.database_url, recreate=args.recreate)
    django.setup()

    from orders.models import Order, OrderRevision
    from tests.benchmarks import data

    call_command("migrate", verbosity=0)
    count = Order.objects.count()
    if count == args.orders and OrderRevision.objects.exists():
        return
    if count:
        print(
            f"The database has {count:,} orders (wanted {args.orders:,}) or no history: "
            "remaking it."
        )
        connections.close_all()
        ensure_database(args.database_url, recreate=True)
        call_command("migrate", verbosity=0)
    print(f"Loading {args.orders:,} orders.", flush=True)
    started = time.monotonic()
    data.load(args.orders)
    print(f"Loaded in {time.monotonic() - started:.1f}s; adding history.", flush=True)
    started = time.monotonic()
    add_history()
    print(f"History added in {time.monotonic() - started:.1f}s.", flush=True)


def add_history() -> None:
    """For every order: history rows for its creation and its lines' creation, one per
    status change up to its status, and its first revision (the lines it came with)."""
    from django.db import connection, transaction

    from oms import audit
    from oms.bulk import insert_rows
    from orders.choices import RevisionSource
    from orders.models import Order, OrderLine, OrderRevision
    from tests.benchmarks import data

    order_fields = [f.attname for f in Order.history.model.tracked_fields]
    line_fields = [f.attname for f in OrderLine.history.model.tracked_fields]
    ids = list(Order.objects.order_by("id").values_list("id", flat=True))
    with transaction.atomic(), audit.acting(data.LOADER):
        for start in range(0, len(ids), HISTORY_CHUNK):
            chunk = ids[start : start + HISTORY_CHUNK]
            orders = list(Order.objects.filter(id__in=chunk).values(*order_fields))
            lines = list(
                OrderLine.objects.filter(order_id__in=chunk).values(*line_fields, "item__code")
            )
            created = [SimpleNamespace(**{**o, "status": "draft"}) for o in orders]
            history(Order, created, "+", "created")
            history(OrderLine, [SimpleNamespace(**line) for line in lines], "+", "created")
            for step in range(max(len(steps) for steps in STATUS_STEPS.values())):
                changed = [
                    SimpleNamespace(**{**o, "status": STATUS_STEPS[o["status"]][step]})
                    for o in orders
                    if len(STATUS_STEPS[o["status"]]) > step
                ]
                history(Order, changed, "~", "status change")
            added: dict[int, list] = {}
            for line in lines:
                added.setdefault(line["order_id"], []).append(
                    {"item": line["item__code"], "quantity": line["quantity"]}
                )
            insert_rows(
                OrderRevision,
                [
                    OrderRevision(
                        order_id=o["id"],
                        number=1,
                        source=RevisionSource.UPSTREAM,
                        event_id=f"bench-{o['number']}",
                        delta={"lines": {"added": added[o["id"]], "removed": [], "changed": []}},
                        actor_kind=data.LOADER.kind,
                        actor_name=data.LOADER.name,
                        correlation_id=f"bench-{o['id']}",
                    )
                    for o in orders
                ],
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def history(model, instances, history_type: str, reason: str) -> None:
    from oms import audit

    audit.bulk_history(
        model,
        instances,
        history_type=history_type,
        reasons=[reason] * len(instances),
        correlation_ids=[f"bench-{getattr(i, 'order_id', i.id)}" for i in instances],
    )


# --- Pages ------------------------------------------------------------------------------


def coordinator():
    from django.contrib.auth.models import Group, User

    from oms.roles import Role

    user, _ = User.objects.get_or_create(username="bench-coordinator")
    user.groups.set([Group.objects.get(name=Role.COORDINATOR)])
    return user


def assign_some(user) -> None:
    """Every tenth order assigned to the benchmark's coordinator (once), so that "Mine
    first" and the assignee filter have orders to find."""
    from django.db.models import F

    from orders.models import Order

    if not Order.objects.filter(assignee__isnull=False).exists():
        Order.objects.annotate(tenth=F("id") % 10).filter(tenth=0).update(assignee=user)


@dataclass(frozen=True)
class Visit:
    """A request: its path, and whether it is a poll holding the ETag of its own first
    answer (answered 304 while nothing changes)."""

    path: str
    poll: bool = False

    @property
    def status(self) -> int:
        return 304 if self.poll else 200


# The ETag of each polled path, read once (nothing changes during the benchmark).
ETAGS: dict[str, str] = {}


def page_kinds(args) -> dict[str, list[Visit]]:
    """The requests each page kind makes, in turn."""
    from catalog.models import Item
    from orders.models import Market, Order, Project
    from orders.web.views import PAGE_SIZE

    rng = random.Random(args.seed)
    numbers = list(Order.objects.order_by("id").values_list("number", flat=True))
    prefixes = sorted({number[:-2] for number in rng.sample(numbers, SEARCH_PREFIXES)})
    parts = sorted({number[4:-1] for number in rng.sample(numbers, SEARCH_PREFIXES)})
    sites = list(Project.objects.order_by("id").values_list("site_code", "name"))
    picked_sites = rng.sample(sites, min(len(sites), 10))
    site_prefixes = sorted({site[:-1] for site, _ in picked_sites})
    site_words = sorted({" ".join(name.split()[1:]) for _, name in picked_sites})
    items = list(Item.objects.order_by("id").values_list("description", flat=True))
    item_words = sorted({" ".join(d.split()[1:]) for d in rng.sample(items, min(10, len(items)))})
    detail = rng.sample(numbers, min(len(numbers), args.requests + args.warmup))
    market = Market.objects.order_by("code").values_list("code", flat=True).first()
    deep = max(1, min(args.deep_page, -(-len(numbers) // PAGE_SIZE)))
    first_need = Order.objects.order_by("need_by").values_list("need_by", flat=True).first()
    month = f"need_by_from={first_need}&need_by_to={first_need + datetime.timedelta(days=30)}"
    combined = (
        f"status=draft&status=approved&market={market}&priority=1&priority=2"
        f"&q={parts[0][:4]}&per_page=200"
    )
    kinds = {
        "queue": ["/orders/"],
        "queue status=draft": ["/orders/?status=draft"],
        "queue q=<number prefix>": [f"/orders/?q={prefix}" for prefix in prefixes],
        "queue q=<part of number>": [f"/orders/?q={part}" for part in parts],
        "queue q=<site prefix>": [f"/orders/?q={prefix.lower()}" for prefix in site_prefixes],
        "queue q=<site name>": [f"/orders/?q={quote(words)}" for words in site_words],
        "queue q=<item description>": [f"/orders/?q={quote(words)}" for words in item_words],
        f"queue market={market}": [f"/orders/?market={market}"],
        "queue need-by month": [f"/orders/?{month}"],
        "queue assignee=me": ["/orders/?assignee=me"],
        "queue assignee=none": ["/orders/?assignee=none"],
        "queue 2 statuses+market+2 priorities+q, 200 rows": [f"/orders/?{combined}"],
        "queue jeopardy=true": ["/orders/?jeopardy=true"],
        "queue sort=need_by": ["/orders/?sort=need_by"],
        f"queue page={deep}": [f"/orders/?page={deep}"],
        f"queue priority page={deep}": [f"/orders/?sort=priority&page={deep}"],
        "queue poll, unchanged (304)": [Visit("/orders/live/", poll=True)],
        "detail (random orders)": [f"/orders/{number}/" for number in detail],
        "detail poll, unchanged (304)": [
            Visit(f"/orders/{number}/live/", poll=True) for number in detail[:20]
        ],
    }
    return {
        name: [v if isinstance(v, Visit) else Visit(v) for v in visits]
        for name, visits in kinds.items()
    }


def get(client, visit: Visit):
    headers = {"If-None-Match": ETAGS[visit.path]} if visit.poll else {}
    response = client.get(visit.path, headers=headers)
    if response.status_code != visit.status:
        raise BenchError(
            f"GET {visit.path} answered {response.status_code}, not {visit.status}: "
            f"{response.content[:500]!r}"
        )
    return response


def measure(client, visits: list[Visit], args) -> tuple[Result, list[dict]]:
    """Times `args.requests` requests after `args.warmup` others; returns the figures
    and the queries of one more request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for visit in visits:  # a poll holds the ETag of the page as first drawn
        if visit.poll and visit.path not in ETAGS:
            ETAGS[visit.path] = get(client, Visit(visit.path))["ETag"]
    for i in range(args.warmup):
        get(client, visits[(args.requests + i) % len(visits)])
    times = []
    for i in range(args.requests):
        visit = visits[i % len(visits)]
        started = time.perf_counter()
        get(client, visit)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        get(client, visits[0])
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    result = Result(len(times), cuts[49], cuts[94], max(times), len(queries))
    return result, queries.captured_queries


@dataclass(frozen=True)
class Export:
    rows: int  # lines after the header (meaningful for CSV)
    megabytes: float
    seconds: float
    peak_mib: float


def measure_export(client, path: str) -> Export:
    """Download the export of every order chunk by chunk, as a browser would, keeping
    none of it: its time, then, in a second download, the peak of the memory Python
    allocates while the file is made (tracemalloc; flat memory means a peak that does
    not grow with the number of rows)."""
    import tracemalloc

    def download() -> tuple[int, int]:
        response = get(client, Visit(path))
        size = lines = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
        return size, lines

    started = time.perf_counter()
    size, lines = download()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        download()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Export(lines - 1, size / 1e6, seconds, peak / 2**20)


def report_exports(exports: dict[str, Export]) -> None:
    print()
    print(f"{'export of every order':<26}{'MB':>9}{'seconds':>9}{'peak MiB':>10}")
    for name, e in exports.items():
        print(f"{name:<26}{e.megabytes:>9.1f}{e.seconds:>9.1f}{e.peak_mib:>10.1f}")
    print("(peak: memory Python allocated at most at any moment while the file was made)")


def explain(sql: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        return cursor.fetchone()[0][0]


# --- Report -----------------------------------------------------------------------------


def report(args, server: str, results: dict[str, Result]) -> None:
    print()
    print(
        f"{args.orders:,} orders on {server}; Django test client in process, DEBUG off; "
        f"{args.requests} timed requests per page after {args.warmup} warm-up"
    )
    print()
    target = f"p95 <= {MAX_P95_MS:.0f} ms"
    print(
        f"{'page':<50}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'queries':>9}"
        f"  {target}"
    )
    for name, r in results.items():
        verdict = "met" if r.p95_ms <= MAX_P95_MS else "MISSED"
        print(
            f"{name:<50}{r.requests:>9}{r.p50_ms:>9.1f}{r.p95_ms:>9.1f}{r.max_ms:>9.1f}"
            f"{r.queries:>9}  {verdict}"
        )


def report_slowest(results: dict[str, Result], queries: dict[str, list[dict]]) -> None:
    missed = {name: r for name, r in results.items() if r.p95_ms > MAX_P95_MS}
    print()
    if not missed:
        print(f"Every page kind meets p95 <= {MAX_P95_MS:.0f} ms.")
        return
    name = max(missed, key=lambda n: missed[n].p95_ms)
    query = max(queries[name], key=lambda q: float(q["time"]))
    sql = query["sql"]
    if sql.startswith("SELECT ") and " FROM " in sql:
        sql = "SELECT ..." + sql[sql.index(" FROM ") :]
    plan = explain(query["sql"])
    print(f"Slowest page over the target: {name} (p95 {missed[name].p95_ms:.1f} ms).")
    print(f"Its slowest query ({float(query['time']) * 1000:.1f} ms in the page):")
    print(f"  {sql[:600]}{' ...' if len(sql) > 600 else ''}")
    print(
        f"EXPLAIN (ANALYZE): execution {plan['Execution Time']:.1f} ms, "
        f"planning {plan['Planning Time']:.1f} ms."
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    configure(args)
    try:
        prepare_database(args)
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client, override_settings

        server = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
        kinds = page_kinds(args)
        with (
            tempfile.TemporaryDirectory() as static_root,
            override_settings(STATIC_ROOT=static_root),
        ):
            call_command("collectstatic", interactive=False, verbosity=0)
            client = Client()
            user = coordinator()
            assign_some(user)
            client.force_login(user)
            results, queries = {}, {}
            for name, visits in kinds.items():
                print(f"{name}: {args.warmup} warm-up, {args.requests} timed.", flush=True)
                results[name], queries[name] = measure(client, visits, args)
            exports = {}
            if not args.skip_exports:
                for name, path in (("CSV", "/orders/export.csv"), ("Excel", "/orders/export.xlsx")):
                    print(f"Export of every order as {name}.", flush=True)
                    exports[name] = measure_export(client, f"{path}?view=all")
                if exports["CSV"].rows != args.orders:
                    raise BenchError(f"The CSV export holds {exports['CSV'].rows:,} orders.")
        report(args, server, results)
        report_slowest(results, queries)
        if exports:
            report_exports(exports)
    except BenchError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
