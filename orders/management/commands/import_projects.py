from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from oms.errors import DomainError
from oms.jobs import job_run
from orders.project_files import JOB, PLANNING_ACTOR, import_project_file


class Command(BaseCommand):
    help = (
        "Import project master data from a planning system file (.parquet or .csv): "
        "new projects are created, changed ones updated, bad rows reported."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--batch-size", type=int, default=1000, help="Rows per transaction.")
        parser.add_argument(
            "--show", type=int, default=20, help="How many invalid rows to list (default 20)."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, path, batch_size, show, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        bar = tqdm(unit=" rows", disable=True if no_progress else None)
        try:
            with job_run(JOB, context={"file": str(path)}) as counts:
                result = import_project_file(
                    path,
                    actor=PLANNING_ACTOR,
                    counts=counts,
                    batch_size=batch_size,
                    on_start=lambda total: setattr(bar, "total", total),
                    on_progress=bar.update,
                )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()

        c = result.counts
        self.stdout.write(
            f"{path.name}: {result.rows} rows: created {c['created']}, modified "
            f"{c['modified']}, unchanged {c['unchanged']}, invalid {c['invalid']}."
        )
        if result.invalid and show > 0:
            self.stdout.write(f"Invalid rows (first {min(show, c['invalid'])}):")
            for outcome in result.invalid[:show]:
                for problem in outcome.problems:
                    self.stdout.write(
                        f"  row {outcome.row} ({outcome.project_id or '?'}), "
                        f"{problem.field or '-'}: {problem.message}"
                    )
