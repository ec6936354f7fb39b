"""One phase of the ingestion benchmark (tests/benchmarks/ingestion.py), run in a fresh
process so that the peak memory it reports is the phase's own:

    python -m tests.benchmarks.ingestion_phase PHASE FOLDER

It sets Django up, runs the phase and prints one JSON line: the wall time of the phase
(Django's start-up not counted), the process's peak resident memory (getrusage
ru_maxrss, start-up included) and what the command printed.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import django

from tests.benchmarks.phases import print_phase


def setup(folder: Path, out: io.StringIO) -> None:
    """Migrate, then make the markets and the catalog items the generated files use."""
    from django.core.management import call_command

    from catalog.models import Item
    from oms import audit
    from oms.actors import Actor
    from orders.models import Market, Region
    from orders.upstream_samples import ITEMS_FILE
    from tests.benchmarks.ingestion import MARKETS, REGIONS

    call_command("migrate", verbosity=0, stdout=out)
    with audit.acting(Actor.system("bench"), reason="ingestion benchmark"):
        regions = {code: Region.objects.create(code=code, name=name) for code, name in REGIONS}
        for code, region in MARKETS:
            Market.objects.create(code=code, name=f"Bench {code}", region=regions[region])
        with (folder / ITEMS_FILE).open(newline="", encoding="utf-8") as file:
            items = Item.objects.bulk_create(
                (Item(**row) for row in csv.DictReader(file)), batch_size=1000
            )
    out.write(f"{len(MARKETS)} markets, {len(items):,} items")


def projects(folder: Path, out: io.StringIO) -> None:
    from django.core.management import call_command

    from orders.upstream_samples import PROJECTS_FILE

    call_command("import_projects", str(folder / PROJECTS_FILE), "--no-progress", stdout=out)


def new_orders(folder: Path, out: io.StringIO) -> None:
    from django.core.management import call_command

    from orders.upstream_samples import DESIGNS_FILE

    call_command("ingest_events", str(folder / DESIGNS_FILE), "--no-progress", stdout=out)


def revisions(folder: Path, out: io.StringIO) -> None:
    from django.core.management import call_command

    from orders.upstream_samples import REVISIONS_FILE

    call_command("ingest_events", str(folder / REVISIONS_FILE), "--no-progress", stdout=out)


PHASES = {
    "setup": setup,
    "projects": projects,
    "new orders": new_orders,
    "revisions": revisions,
}


def main(argv=None) -> int:
    name, folder = argv if argv is not None else sys.argv[1:]
    django.setup()

    def phase() -> str:
        out = io.StringIO()
        PHASES[name](Path(folder), out)
        return out.getvalue().strip()

    print_phase(phase)
    return 0


if __name__ == "__main__":
    sys.exit(main())
