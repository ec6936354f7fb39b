from celery import shared_task

from oms.api import idempotency


@shared_task
def prune_idempotency_keys() -> int:
    """Forget idempotency keys older than OMS_IDEMPOTENCY_TTL_HOURS."""
    return idempotency.prune()
