from celery import shared_task
from django.db import OperationalError

from oms import relay, webhooks
from oms.api import idempotency


@shared_task
def prune_idempotency_keys() -> int:
    """Forget idempotency keys older than OMS_IDEMPOTENCY_TTL_HOURS."""
    return idempotency.prune()


# A lost database connection is worth retrying; the delivery's own retries (HTTP
# failures, with backoff up to the maximum age) are scheduled by oms.webhooks itself.
@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def deliver_webhook(delivery_id: int) -> str:
    """Send one webhook delivery if it is due. Safe to run twice: a delivery is claimed
    before it is sent, and one that is not due or already finished is skipped."""
    return webhooks.deliver(delivery_id=delivery_id)


@shared_task
def send_due_webhooks() -> int:
    """Queue the pending deliveries whose task is overdue (beat, every minute)."""
    return webhooks.send_due()


@shared_task
def relay_outbox() -> int:
    """Hand pending outbox events on to their handlers (beat, every
    OMS_RELAY_INTERVAL_SECONDS, and after each commit that wrote events). Safe to run
    twice at once: each relay takes the events no other one holds."""
    return relay.relay_pending()
