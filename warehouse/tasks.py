"""Celery tasks of the warehouse app: load by id, call a service, nothing else. Every
task retries connection errors with backoff (oms.retry.RetryOnOutage); beat's frequent
sweeps do not (their next run is the retry)."""

from celery import shared_task
from django.conf import settings

from warehouse.integration import dispatch
from warehouse.ledger.reconcile import reconcile_stock_job


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def send_release(self, release_pk: int) -> str:
    """Deliver one release request to its warehouse, idempotent by release id. A
    failure a retry can fix is retried with backoff and jitter, up to
    OMS_WAREHOUSE_MAX_ATTEMPTS; run in-process (the test suite) there is one attempt. The
    last failure is recorded on the release for a person to send it again. A lost
    connection to the database or Redis is retried as well, without limit."""
    attempt = self.request.retries + 1
    last_try = bool(self.request.is_eager) or attempt >= settings.OMS_WAREHOUSE_MAX_ATTEMPTS
    try:
        return dispatch.release_send(release_pk=release_pk, attempt=attempt, last_try=last_try)
    except dispatch.RetryLater as later:
        raise self.retry(countdown=later.countdown) from None


@shared_task(max_retries=0)
def resend_stalled_releases() -> int:
    """Send again the release requests whose task was lost (beat, every 5 minutes)."""
    return dispatch.resend_stalled()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def ask_release(release_pk: int) -> str:
    """Ask the warehouse again about a release it took and never answered, idempotent
    by release id: an ask no longer due (made meanwhile, or answered) does nothing."""
    return dispatch.release_ask(release_pk=release_pk)


@shared_task(max_retries=0)
def ask_unanswered_releases() -> dict:
    """Ask again about releases the warehouse has not answered for
    OMS_WAREHOUSE_ANSWER_AFTER_MINUTES, and leave to a person those asked
    OMS_WAREHOUSE_MAX_ASKS times (beat, every 5 minutes)."""
    asked, left = dispatch.ask_unanswered()
    return {"asked": asked, "left_to_a_person": left}


@shared_task
def reconcile_stock() -> dict:
    """The nightly ledger check (beat, OMS_RECONCILE_STOCK_AT), recorded as a job run
    and mailed to OMS_OPS_EMAILS when a level does not match its ledger. Read-only, so
    safe to run twice."""
    result = reconcile_stock_job()
    return {
        "levels": result.levels,
        "movements": result.movements,
        "differences": len(result.differences),
    }
