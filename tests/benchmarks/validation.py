"""Validation alone: how long the design event schema and the project row check take
over N generated records, with no database and no writes. Printed, not asserted.

    .venv/bin/python -m tests.benchmarks.validation
    .venv/bin/python -m tests.benchmarks.validation --events 20000 --lines 20

The events are the benchmark's design_approved events (orders.upstream_samples), read
back from JSON as the ingestion reads them; the project rows are the planning file's
rows as Parquet gives them (dates as dates, coordinates as floats). Each figure is the
best of --repeat runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.validation",
        description="Time the design event schema and the project row check, nothing else.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=10_000, help="design events")
    parser.add_argument("--lines", type=int, default=20, help="item lines per design")
    parser.add_argument("--projects", type=int, default=10_000, help="project rows")
    parser.add_argument("--repeat", type=int, default=5, help="runs; the best is printed")
    return parser.parse_args(argv)


def best(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    os.environ.setdefault("DEBUG", "true")  # no database is used; no secret key needed
    import django

    django.setup()

    from orders import upstream_samples as samples
    from orders.choices import DesignEventType, PlanType
    from orders.ingestion import design
    from orders.models import Market, Region
    from orders.project_import import validate_row

    occurred = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC)
    events = []
    for number in range(1, args.events + 1):
        bom, header = samples.design(1, number, lines=args.lines, items=samples.ITEM_POOL)
        event = samples.design_event(
            number, DesignEventType.DESIGN_APPROVED, occurred, header, PlanType.COVERAGE, bom
        )
        events.append(json.loads(json.dumps(event)))
    markets = [samples.MarketCode(f"BX{n}", "BXE") for n in range(1, 5)]
    region = Region(code="BXE", name="Bench east")
    by_code = {m.code: Market(code=m.code, name=m.code, region=region) for m in markets}
    rows = [samples.project_row(1, number, markets) for number in range(1, args.projects + 1)]

    def one_by_one():
        for payload in events:
            _, problems = design.schema_problems(payload)
            assert not problems, problems

    timings = {"design events, one call each": best(args.repeat, one_by_one)}
    many = getattr(design, "schema_problems_many", None)
    if many is not None:

        def together():
            results = many(events)
            assert not any(problems for _, problems in results)

        timings["design events, one call for all"] = best(args.repeat, together)

    def project_rows():
        for row in rows:
            _, problems = validate_row(row, by_code)
            assert not problems, problems

    timings["project rows"] = best(args.repeat, project_rows)

    print(
        f"Validation only, best of {args.repeat}: {args.events:,} design events of "
        f"{args.lines} lines, {args.projects:,} project rows."
    )
    print(f"{'what':<36}{'seconds':>9}{'records/s':>12}{'us/record':>11}")
    for label, seconds in timings.items():
        count = args.projects if label == "project rows" else args.events
        print(f"{label:<36}{seconds:>9.3f}{count / seconds:>12,.0f}{seconds / count * 1e6:>11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
