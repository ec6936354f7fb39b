"""Allocation runs: asked for by beat, a coordinator, an API client or arriving stock;
executed by a Celery task; never two at once.

- `allocation_run_request` queues a run. At most one run is queued or running
  (`AllocationRun.active` is unique): asking while one is answers
  AllocationRunInProgress naming it. A run that can no longer finish (its process
  died) is marked failed and a new one starts.
- `allocation_run_execute` executes a queued run (the task calls it; running it twice
  is harmless). It holds the run lock while it works: a PostgreSQL advisory lock
  (released by the database if the process dies, which is how a dead run is told from
  a live one) or, on SQLite, a lock of the process. It waits for the lock while a run
  that has just finished lets it go, and gives up after QUEUED_TIMEOUT.
- `allocation_runs_send_waiting` sends a queued run again when its task never arrived
  (beat, every minute), so a run asked for while the broker was down still runs.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from allocation.choices import RunStatus, Trigger
from allocation.engine.run import execute
from allocation.models import AllocationOutcome, AllocationRun
from allocation.selectors import run_list
from oms import broker, correlation
from oms.actors import Actor
from oms.errors import DomainError
from oms.jobs import job_run

# The key of the PostgreSQL advisory lock held by the executing run.
LOCK_KEY = 6_420_011_006
# A queued run that no worker started within this time is given up.
QUEUED_TIMEOUT = datetime.timedelta(minutes=10)
# A queued run not started after this long is sent to the workers again.
WAITING_AFTER = datetime.timedelta(minutes=1)
# The task that executes a queued run (allocation.tasks).
EXECUTE_TASK = "allocation.tasks.execute_allocation_run"
# Without PostgreSQL, a run still running after this long is taken for dead.
RUNNING_TIMEOUT = datetime.timedelta(hours=1)

_process_lock = threading.Lock()
_held = threading.local()


class AllocationRunInProgress(DomainError):
    code = "allocation_run_in_progress"

    def __init__(self, run: AllocationRun):
        if run.is_active:
            message = (
                f"Allocation run #{run.pk} is {run.get_status_display().lower()}; "
                "a new one can start when it has finished."
            )
        else:
            message = f"Allocation run #{run.pk} was asked for at the same moment and has run."
        super().__init__(message)
        self.run = run


def allocation_outcomes_prune(*, now: datetime.datetime | None = None) -> int:
    """Remove the per-order outcomes of runs that finished more than
    OMS_ALLOCATION_KEEP_DAYS ago (the runs and their counts stay). Returns how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.OMS_ALLOCATION_KEEP_DAYS)
    removed = 0
    runs = AllocationRun.objects.filter(finished_at__lt=cutoff, outcomes_pruned_at__isnull=True)
    for run_id in runs.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            removed += AllocationOutcome.objects.filter(run_id=run_id).delete()[0]
            AllocationRun.objects.filter(pk=run_id).update(outcomes_pruned_at=timezone.now())
    return removed


def run_actor(run: AllocationRun) -> Actor:
    return Actor.system(f"allocation run #{run.pk}")


def allocation_run_request(*, actor: Actor, trigger: str, dry_run: bool = False) -> AllocationRun:
    """Queue a run (or a dry run) and have a worker execute it once this commits."""
    actor.require("allocation.run_allocation", "start allocation runs")
    with transaction.atomic():
        active = AllocationRun.objects.select_for_update().filter(active=True).first()
        if active is not None:
            if _alive(active):
                raise AllocationRunInProgress(active)
            _give_up(active, "abandoned: its process stopped before it finished")
        try:
            with transaction.atomic():
                run = AllocationRun.objects.create(
                    trigger=Trigger(trigger),
                    dry_run=dry_run,
                    split=settings.OMS_ALLOCATION_SPLIT,
                    requested_by_kind=actor.kind,
                    requested_by_name=actor.name,
                    correlation_id=correlation.get(),
                )
        except IntegrityError:
            # Another request queued one at the same moment (and has committed it; it
            # may even have run since).
            winner = AllocationRun.objects.filter(active=True).first() or run_list().first()
            assert winner is not None, "the run that won has been committed"
            raise AllocationRunInProgress(winner) from None
        broker.send_after_commit(EXECUTE_TASK, run.pk)
    return run


def allocation_runs_send_waiting() -> int:
    """Send again the queued runs no worker has started WAITING_AFTER after they were
    asked for: their task never arrived (the broker was down, or lost it). Executing is
    safe to run twice: a run executes once."""
    cutoff = timezone.now() - WAITING_AFTER
    pks = list(
        AllocationRun.objects.filter(status=RunStatus.QUEUED, requested_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in pks:
        broker.send(EXECUTE_TASK, pk)
    return len(pks)


def allocation_run_execute(*, run_id: int) -> AllocationRun | None:
    """Execute a queued run; None when there is nothing to do (it already ran, or
    another worker executes it)."""
    with run_lock() as held:
        if not held:
            return None
        claimable = [RunStatus.QUEUED]
        if connection.vendor == "postgresql":
            # Holding the lock proves whoever marked it running has died.
            claimable.append(RunStatus.RUNNING)
        # A run taken up again keeps its start: its duration spans its executions.
        claimed = AllocationRun.objects.filter(pk=run_id, status__in=claimable).update(
            status=RunStatus.RUNNING, started_at=Coalesce("started_at", Value(timezone.now()))
        )
        if not claimed:
            return None
        run = AllocationRun.objects.get(pk=run_id)
        context = {"allocation_run": run.pk, "dry_run": run.dry_run, "trigger": run.trigger}
        with (
            correlation.use(run.correlation_id or None),
            job_run("allocation", context=context) as counts,
        ):
            run.job_run_id = counts.job_run_id
            AllocationRun.objects.filter(pk=run.pk).update(job_run_id=run.job_run_id)
            try:
                summary = execute(run, actor=run_actor(run))
            except OperationalError:
                # A deadlock or a lost connection: the task tries again.
                AllocationRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
                raise
            except Exception as exc:
                _give_up(AllocationRun.objects.get(pk=run.pk), f"{type(exc).__name__}: {exc}")
                raise
            counts.created = summary.allocations
            counts.modified = summary.allocated + summary.rejected
            counts.skipped = summary.short + summary.gated + summary.changed
            counts.detail.update(
                eligible=summary.eligible,
                allocated=summary.allocated,
                short=summary.short,
                rejected=summary.rejected,
                gated=summary.gated,
                changed=summary.changed,
                units_reserved=summary.units_reserved,
            )
    run.refresh_from_db()
    return run


@contextmanager
def run_lock() -> Iterator[bool]:
    """Hold the run lock while the block runs; yields False when it could not be had
    within QUEUED_TIMEOUT (another run is still going)."""
    deadline = time.monotonic() + QUEUED_TIMEOUT.total_seconds()
    if connection.vendor != "postgresql":
        held = _process_lock.acquire(timeout=QUEUED_TIMEOUT.total_seconds())
        _held.value = held
        try:
            yield held
        finally:
            _held.value = False
            if held:
                _process_lock.release()
        return
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            (held,) = cursor.fetchone()
            if held or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    _held.value = held
    try:
        yield held
    finally:
        _held.value = False
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def _alive(run: AllocationRun) -> bool:
    """Whether an active run can still finish."""
    now = timezone.now()
    if run.status == RunStatus.QUEUED:
        return now - run.requested_at < QUEUED_TIMEOUT
    if getattr(_held, "value", False):
        return True
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            (free,) = cursor.fetchone()
            if free:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        return not free
    return now - (run.started_at or run.requested_at) < RUNNING_TIMEOUT


def _give_up(run: AllocationRun, error: str) -> None:
    run.status = RunStatus.FAILED
    run.active = None
    run.finished_at = timezone.now()
    run.error = error
    run.save(update_fields=["status", "active", "finished_at", "error"])
