"""The outbox relay: hands pending outbox events on to the handlers of their type.

Every change writes its events to the outbox in its own transaction (oms.outbox). The
relay takes pending events (`delivered_at IS NULL`) in id order, in batches locked with
`SELECT ... FOR UPDATE SKIP LOCKED` (several relays share the work and never wait for
each other), calls the handlers registered for each event's type under the event's
correlation id, and marks the batch delivered in the same transaction.

Delivery is at least once. A handler hands the event on quickly (sends a Celery task,
writes a delivery row) and may be called twice for one event: if the relay dies after
a handler ran and before the batch committed, the events are still pending and are
handed on again. So what a handler starts is idempotent: a release is sent with its
release id as idempotency key, and receivers dedupe by event id.

Handlers send tasks with `enqueue`. With a broker, the task is published at once,
inside the batch's transaction: this is the one place where OMS does that on purpose.
Publishing after the commit could lose the task if the process died in between, while
publishing before it can at worst publish twice; the tasks only read rows committed
before the batch began. Where tasks run in-process (the test suite) the task runs after
the batch commits, so that it never works inside the relay's transaction.

The relay runs from beat every OMS_RELAY_INTERVAL_SECONDS (`oms.tasks.relay_outbox`)
and at once after each commit that wrote events (`kick_after_commit`, called by
`oms.outbox.publish`; off with OMS_RELAY_KICK=false).

Handlers are named by dotted path in HANDLERS, event type -> handlers, which each app
fills for the events it answers (`register`, from its AppConfig.ready); the handlers
under ALL_EVENTS get every event. A handler takes one OutboxEvent; if it raises, the
event stays pending (what its handlers wrote is rolled back), is logged, and is handed
on again by the next relay, while the other events go on. Adding a handler is one
line: every event goes to the webhook subscribers that want it.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from functools import lru_cache, partial

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from oms import broker, correlation
from oms.models import OutboxEvent

logger = logging.getLogger("oms.relay")

ALL_EVENTS = "*"
KICK_KEY = "oms:relay:kicked"
# The task that runs a relay (oms.tasks).
RELAY_TASK = "oms.tasks.relay_outbox"
KICK_WINDOW_SECONDS = 1  # whole seconds: the cache's timeouts

HANDLERS: dict[str, tuple[str, ...]] = {
    ALL_EVENTS: ("oms.webhooks.relay_event",),
}


def register(event_type: str, path: str) -> None:
    """Have the handler at that dotted path called for every event of the type. Each
    app registers the events it answers in its AppConfig.ready, so that the core and
    the lower apps never name a higher one: an event travels up, an import never."""
    if path not in HANDLERS.get(event_type, ()):
        HANDLERS[event_type] = (*HANDLERS.get(event_type, ()), path)


@lru_cache
def _resolve(path: str) -> Callable[[OutboxEvent], None]:
    return import_string(path)


def handlers_for(event_type: str) -> list[Callable[[OutboxEvent], None]]:
    paths = HANDLERS.get(event_type, ()) + HANDLERS.get(ALL_EVENTS, ())
    return [_resolve(path) for path in paths]


def relay_pending(*, batch_size: int | None = None) -> int:
    """Hand on pending events, batch after batch, until none is left that another relay
    does not hold. Returns how many this relay handed on."""
    size = batch_size or settings.OMS_RELAY_BATCH_SIZE
    failed: set[int] = set()
    total = 0
    while True:
        taken, handed_on = relay_batch(size, skip=failed)
        total += handed_on
        if not taken:
            return total


def relay_batch(size: int, *, skip: set[int]) -> tuple[int, int]:
    """Lock up to `size` pending events that no other relay holds, hand each on, and
    mark them delivered, all in one transaction. An event whose handler raises stays
    pending (its id is added to `skip`, for this run) and does not hold up the others.
    Returns how many events were taken and how many handed on."""
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(delivered_at__isnull=True)
            .exclude(pk__in=skip)
            .order_by("id")[:size]
        )
        delivered = [event.pk for event in events if _hand_on(event)]
        skip.update(event.pk for event in events if event.pk not in delivered)
        if delivered:
            OutboxEvent.objects.filter(pk__in=delivered).update(delivered_at=timezone.now())
    if delivered:
        logger.info("Relayed %d outbox events (up to #%d)", len(delivered), delivered[-1])
    return len(events), len(delivered)


def _hand_on(event: OutboxEvent) -> bool:
    try:
        with transaction.atomic(), correlation.use(event.correlation_id or None):
            for handler in handlers_for(event.event_type):
                handler(event)
    except Exception:
        logger.exception(
            "Outbox event #%d (%s) could not be handed on; it stays pending",
            event.pk,
            event.event_type,
        )
        return False
    return True


def enqueue(name: str, *args: object) -> None:
    """Send the task of that name from a handler (see the module docstring for when it
    is published)."""
    work = broker.task(name)
    if current_app.conf.task_always_eager:
        transaction.on_commit(partial(work.delay, *args))
    else:
        work.delay(*args)


def kick() -> None:
    """Start a relay. Where tasks run in-process, it runs now. Through a broker, commits
    that come close together share one relay, started KICK_WINDOW_SECONDS after the
    first of them: it sees every event committed in the window (the window's cache key
    lapses before the relay starts), and a busy web server does not send one relay task
    per request. While the broker cannot be reached nothing is started: the events wait
    in the outbox for the relay beat runs once the broker is back (oms.broker)."""
    if current_app.conf.task_always_eager:
        broker.send(RELAY_TASK)
    elif cache.add(KICK_KEY, 1, timeout=KICK_WINDOW_SECONDS):
        broker.send(RELAY_TASK, countdown=KICK_WINDOW_SECONDS + 0.1)


class _KickOnCommit:
    """One transaction's start of the relay. Only a weak reference to it is kept
    (`_pending`): while the transaction is open it lives in the transaction's commit
    callbacks; a rollback drops those, and with them the kick, so the next transaction
    arms a new one."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        self.done = True
        kick()


_pending = threading.local()


def kick_after_commit() -> None:
    """Start the relay once the current transaction commits (once per transaction,
    however many events it writes). A failure to start it is logged, not raised: beat
    runs the relay anyway."""
    if not settings.OMS_RELAY_KICK:
        return
    armed = getattr(_pending, "kick", None)
    armed = armed() if armed is not None else None
    if armed is not None and not armed.done:
        return
    armed = _KickOnCommit()
    _pending.kick = weakref.ref(armed)
    transaction.on_commit(armed, robust=True)
