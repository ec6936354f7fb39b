from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from oms.shell.demo import MARKETS
from orders import upstream_samples

DEMO_MARKETS = ",".join(f"{code}:{region}" for code, (_, region) in MARKETS.items())


class Command(BaseCommand):
    help = (
        "Write reproducible synthetic upstream data into a folder: projects.parquet (the "
        "planning file), items.csv (the catalog items the designs use), and one "
        "design_approved and one bom_revised event per project (JSON Lines). The same "
        "seed writes the same files. The markets must exist where the files are imported, "
        "and the items must be created from items.csv before the events are ingested."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, required=True, help="Folder to write into.")
        parser.add_argument("--projects", type=int, default=1000, help="Projects (default 1000).")
        parser.add_argument("--lines", type=int, default=20, help="Item lines per design.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--items",
            type=int,
            default=upstream_samples.ITEM_POOL,
            help=f"Items the designs choose from (default {upstream_samples.ITEM_POOL}).",
        )
        parser.add_argument(
            "--markets",
            default=DEMO_MARKETS,
            help="Market codes, each optionally with its region as CODE:REGION "
            f"(default: the demo markets, {DEMO_MARKETS}).",
        )

    def handle(self, *args, out: Path, projects, lines, seed, items, markets, **options):
        market_codes = upstream_samples.parse_markets(markets)
        try:
            written = upstream_samples.write_upstream(
                out, projects=projects, lines=lines, seed=seed, markets=market_codes, items=items
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        folder = written.folder
        self.stdout.write(
            f"{folder / upstream_samples.PROJECTS_FILE}: {written.projects:,} projects\n"
            f"{folder / upstream_samples.ITEMS_FILE}: {written.items:,} items\n"
            f"{folder / upstream_samples.DESIGNS_FILE}: {written.projects:,} events, "
            f"{written.design_lines:,} lines\n"
            f"{folder / upstream_samples.REVISIONS_FILE}: {written.projects:,} events, "
            f"{written.revised_lines:,} lines ({written.changed_lines:,} changed, "
            f"{written.added_lines:,} added, {written.removed_lines:,} removed)"
        )
