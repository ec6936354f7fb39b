from django.core.management.base import BaseCommand, CommandError

from allocation import services
from allocation.choices import Trigger
from allocation.models import AllocationRun
from oms.actors import Actor


class Command(BaseCommand):
    help = "Run allocation now (or a dry run) in this process and print what it did."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Compute and report; change nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        actor = Actor.system("manage.py run_allocation")
        try:
            run = services.allocation_run_request(
                actor=actor, trigger=Trigger.COMMAND, dry_run=dry_run
            )
        except services.AllocationRunInProgress as exc:
            raise CommandError(str(exc)) from exc
        # With a broker a worker may take it first; either way it runs once.
        services.allocation_run_execute(run_id=run.pk)
        run = AllocationRun.objects.get(pk=run.pk)
        if run.status == "failed":
            raise CommandError(f"{run} failed: {run.error}")
        self.stdout.write(
            f"{run} {run.get_status_display().lower()}: {run.eligible} eligible, "
            f"{run.allocated} allocated, {run.short} short, {run.rejected} rejected, "
            f"{run.gated} gated, {run.changed} changed; {run.units_reserved} units "
            f"{'would be ' if run.dry_run else ''}reserved."
        )
        for row in run.blocking[:5]:
            self.stdout.write(
                f"  {row['item']} keeps {row['orders']} order(s) short; "
                f"{row['units_to_unblock']} more would unblock them"
            )
