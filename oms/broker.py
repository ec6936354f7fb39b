"""Sending Celery tasks so that a broker outage never fails the request that asked.

The broker is only the fast way to start work: the work itself is always written to
the database first, in the transaction of the change that asks for it, and a beat
sweep (or the outbox relay) sends it again when its task does not arrive:

- release requests and every other event: an outbox event not yet relayed, handed on
  by the relay (beat, every OMS_RELAY_INTERVAL_SECONDS);
- design events to process: design events RECEIVED, sent again by
  process_waiting_design_events (beat, OMS_DESIGN_EVENT_SWEEP_SECONDS);
- webhook deliveries: deliveries PENDING, sent again by send_due_webhooks (beat, every
  minute);
- allocation runs: runs QUEUED and not started, sent again by
  send_waiting_allocation_runs (beat, every minute).

So `send` and `send_after_commit` never raise because the broker cannot be reached: they
log it (once per outage) and leave the work where the sweep finds it. Nothing is lost,
and nothing is done twice, because every task is safe to run twice (it re-checks the
state it works on under a lock). After a failed send the process does not try the
broker again for OMS_REDIS_RETRY_SECONDS, so a request made during an outage does not
wait on it.

Without a broker server (the embedded default) tasks go to the embedded broker
(oms.embedded_broker), a folder of message files, and are run by the worker as with
Redis. Only where Celery runs tasks in-process (the test suite) does `send` run the task
at once, raising its errors.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from celery import Task, current_app
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from oms.outages import Outage

# What a publish raises when the broker cannot be reached.
UNREACHABLE = (KombuOperationalError, RedisConnectionError, RedisTimeoutError, OSError)

outage = Outage(
    "The broker (Redis)",
    "work waits in the database (outbox, received design events, pending webhook "
    "deliveries) and is sent when it is back.",
)


def task(name: str) -> Task:
    """The task registered under that name (`app.tasks` module path and function name).

    Work is asked for by name: the modules that ask (services, the relay's handlers) sit
    below the tasks modules that do the work, which import them, never the reverse."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()  # every app's tasks module
    return current_app.tasks[name]


def send(name: str, *args: object, countdown: float | None = None) -> bool:
    """Publish the task of that name now (run it, where tasks run in-process). Whether
    it was handed to the broker; False while the broker cannot be reached (see the
    module docstring)."""
    work = task(name)
    options: dict[str, Any] = {"args": args} if args else {}
    if countdown:
        options["countdown"] = countdown
    if current_app.conf.task_always_eager:
        work.apply_async(**options)
        return True
    if outage.skip():
        return False
    try:
        work.apply_async(**options)
    except UNREACHABLE as error:
        outage.failed(error)
        return False
    outage.succeeded()
    return True


def send_after_commit(name: str, *args: object, countdown: float | None = None) -> None:
    """Publish the task of that name once the current transaction commits, for work the
    transaction keeps in the database where a sweep finds it again (see the module
    docstring)."""
    transaction.on_commit(partial(send, name, *args, countdown=countdown))


def reachable() -> bool:
    """Whether the broker answers now (within OMS_READY_BROKER_TIMEOUT_SECONDS)."""
    timeout = settings.OMS_READY_BROKER_TIMEOUT_SECONDS
    try:
        with current_app.connection_for_write() as connection:
            # kombu takes a timeout in (fractional) seconds; its stubs say int.
            connection.ensure_connection(
                max_retries=1,
                interval_start=0,
                interval_step=0,
                timeout=timeout,  # type: ignore[arg-type]
            )
            client = getattr(connection.default_channel, "client", None)
            if client is not None:  # Redis: a connection is only made by a command
                client.ping()
    except UNREACHABLE as error:
        outage.failed(error)
        return False
    outage.succeeded()
    return True
