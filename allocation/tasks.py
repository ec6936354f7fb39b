"""Celery tasks of the allocation app: load by id, call a service, nothing else."""

from celery import shared_task
from django.conf import settings

from allocation import services
from allocation.choices import Trigger
from oms.actors import Actor

# Deadlocks and lost connections are retried with backoff (oms.retry.RetryOnOutage, the
# app's task class); a business error is not.
SCHEDULER = Actor.system("allocation schedule")
STOCK_WATCH = Actor.system("allocation after stock arrival")


@shared_task(max_retries=5)
def execute_allocation_run(run_id: int) -> dict | None:
    """Execute a queued run. Safe to run twice: a run executes once."""
    run = services.allocation_run_execute(run_id=run_id)
    return None if run is None else {"run": run.pk, "status": run.status}


@shared_task
def scheduled_allocation_run() -> int | None:
    """Beat, every OMS_ALLOCATION_INTERVAL_SECONDS: a run, unless one is going."""
    try:
        return services.allocation_run_request(actor=SCHEDULER, trigger=Trigger.SCHEDULE).pk
    except services.AllocationRunInProgress:
        return None


@shared_task(bind=True, max_retries=20)
def allocation_after_stock(self) -> int | None:
    """Stock arrived a little while ago (see allocation.triggers): a run. If one is
    going it may have read the stock before it arrived, so try again a little later."""
    try:
        return services.allocation_run_request(actor=STOCK_WATCH, trigger=Trigger.STOCK_ARRIVAL).pk
    except services.AllocationRunInProgress as exc:
        raise self.retry(exc=exc, countdown=settings.OMS_ALLOCATION_AFTER_STOCK_SECONDS) from exc


@shared_task(max_retries=0)
def send_waiting_allocation_runs() -> int:
    """Beat, every minute: send again the queued runs whose task never arrived."""
    return services.allocation_runs_send_waiting()


@shared_task
def prune_allocation_outcomes() -> int:
    """Beat, daily: forget the per-order outcomes of old runs."""
    return services.allocation_outcomes_prune()
