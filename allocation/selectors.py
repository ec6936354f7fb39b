"""Reads for allocation runs: querysets and shapes for the back office and the API."""

from django.db.models import F

from allocation.choices import ACTIVE_STATUSES
from allocation.models import AllocationOutcome, AllocationRun


def run_list():
    return AllocationRun.objects.order_by("-requested_at", "-id")


def active_run() -> AllocationRun | None:
    return AllocationRun.objects.filter(status__in=ACTIVE_STATUSES).first()


def last_run() -> AllocationRun | None:
    """The most recent run, dry or not, finished or not."""
    return run_list().first()


def run_outcomes(run: AllocationRun):
    """The run's outcomes in ranking order (gated and changed orders, which have no
    rank, last), with what the pages and the API show of each order."""
    return (
        AllocationOutcome.objects.filter(run=run)
        .select_related("order__project__market")
        .order_by(F("rank").asc(nulls_last=True), "id")
    )


def latest_outcome(order) -> AllocationOutcome | None:
    """What the last run that saw the order did with it, and why."""
    return (
        AllocationOutcome.objects.filter(order=order)
        .select_related("run")
        .order_by("-run_id")
        .first()
    )
