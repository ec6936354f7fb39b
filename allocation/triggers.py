"""A run soon after stock becomes available, once for a burst.

Every ledger movement that makes stock available (a receipt, a positive adjustment,
stock given back by a cancellation or rejection, a good return) publishes a
`stock.available` event, which the outbox relay hands to `stock_available` (registered
in allocation.apps). The first such event within OMS_ALLOCATION_AFTER_STOCK_SECONDS
claims a cache key for that long and schedules one run after that delay; the events
after it find the key and add nothing.

Where tasks run in-process (the test suite) nothing is scheduled: a run would execute
inside the request that received the stock.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from oms import broker, celery_app
from oms.models import OutboxEvent

CACHE_KEY = "oms:allocation:after-stock"
# The task that starts the run (allocation.tasks).
TASK = "allocation.tasks.allocation_after_stock"


def stock_available(event: OutboxEvent) -> None:
    """The relay's handler for stock.available."""
    if settings.OMS_ALLOCATION_AFTER_STOCK_SECONDS <= 0 or celery_app.conf.task_always_eager:
        return
    transaction.on_commit(_schedule, robust=True)


def _schedule() -> None:
    delay = settings.OMS_ALLOCATION_AFTER_STOCK_SECONDS
    if cache.add(CACHE_KEY, "scheduled", timeout=delay):
        broker.send(TASK, countdown=delay)
