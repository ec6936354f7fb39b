"""Celery tasks of the platform core. Every task retries connection errors with backoff
(oms.retry.RetryOnOutage, the app's task class); beat's frequent sweeps do not (their
next run is the retry)."""

from celery import shared_task

from oms import relay, webhooks
from oms.api import idempotency


@shared_task
def prune_idempotency_keys() -> int:
    """Forget idempotency keys older than OMS_IDEMPOTENCY_TTL_HOURS."""
    return idempotency.prune()


# A lost connection is retried (RetryOnOutage); the delivery's own retries (HTTP failures,
# with backoff up to the maximum age) are scheduled by oms.webhooks itself.
@shared_task
def deliver_webhook(delivery_id: int) -> str:
    """Send one webhook delivery if it is due. Safe to run twice: a delivery is claimed
    before it is sent, and one that is not due or already finished is skipped."""
    return webhooks.deliver(delivery_id=delivery_id)


@shared_task(max_retries=0)
def send_due_webhooks() -> int:
    """Queue the pending deliveries whose task is overdue (beat, every minute)."""
    return webhooks.send_due()


@shared_task(max_retries=0)
def relay_outbox() -> int:
    """Hand pending outbox events on to their handlers (beat, every
    OMS_RELAY_INTERVAL_SECONDS, and after each commit that wrote events). Safe to run
    twice at once: each relay takes the events no other one holds."""
    return relay.relay_pending()
