import sys
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from oms import untrusted
from oms.bulk import gc_paused
from oms.jobs import job_run
from orders import ingestion
from orders.ingestion.batch import process_batch

BATCH = 2000


class Command(BaseCommand):
    help = (
        "Backfill design events from a JSON Lines file (one event per line): each event "
        "is stored, then processed by the upstream change rules. Prints the counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, path: Path, no_progress: bool, **options):
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        unreadable: list[str] = []
        with job_run("ingest_events", context={"file": path.name}) as counts:
            with path.open(encoding="utf-8") as lines:
                progress = tqdm(lines, unit=" events", disable=no_progress, file=sys.stderr)
                numbered_lines = enumerate(progress, start=1)
                while batch := list(islice(numbered_lines, BATCH)):
                    self._ingest(batch, counts, unreadable)
            counts.detail["unreadable_lines"] = unreadable[:100]
        self.stdout.write(
            f"{path.name}: created {counts.created}, modified {counts.modified}, "
            f"skipped {counts.skipped}, failed {counts.failed}."
        )
        for problem in unreadable[:20]:
            self.stdout.write(f"  {problem}")
        invalid = counts.detail.get("invalid", [])
        if invalid:
            self.stdout.write(
                f"  {len(invalid)} invalid event(s) are in the dead letters, e.g. "
                + ", ".join(invalid[:5])
            )

    @gc_paused()
    def _ingest(self, lines, counts, unreadable) -> None:
        """Read a batch of lines, store their events, then process the new ones as one
        batch."""
        numbered: list[tuple[int, dict]] = []
        for number, line in lines:
            if not line.strip():
                continue
            try:
                payload = untrusted.json_loads(line, max_depth=settings.OMS_API_MAX_JSON_DEPTH)
            except ValueError as exc:
                unreadable.append(f"line {number}: not JSON ({exc})")
                counts.add("failed")
            else:
                numbered.append((number, payload))
        received = ingestion.receive_many(
            [payload for _, payload in numbered], received_from="ingest_events"
        )
        new = []
        for (number, _), result in zip(numbered, received, strict=True):
            if result.event is None:
                unreadable.append(f"line {number}: {result.problems[0].message}")
                counts.add("failed")
            elif result.duplicate:
                counts.add("skipped")
            else:
                new.append(result.event)
        process_batch(new, counts)
