"""Trying again: how long to wait before calling another system again, and the base of
every task, which retries the errors a retry can fix."""

from __future__ import annotations

import random
from typing import Any

from celery import Task
from celery.exceptions import Retry
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the attempt-th failure (1-based): base * 2^(attempt-1),
    capped, of which the second half is random ("equal jitter"), so senders waiting on
    the same system spread out instead of all coming back at the same moment."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


# Errors a retry can fix: the broker or Redis cannot be reached, the database connection
# is lost or refused, a deadlock or serialization failure (django.db.OperationalError).
TRANSIENT = (
    DatabaseOperationalError,
    DatabaseInterfaceError,
    KombuOperationalError,
    RedisConnectionError,
    RedisTimeoutError,
)


class RetryOnOutage(Task):
    """The base of every OMS task (the Celery app's task_cls). A task that hits an error
    a retry can fix (TRANSIENT) is sent again after an exponential backoff with
    jitter (about 2 s, doubling, at most 300 s), up to its max_retries (10 unless it
    says otherwise; beat's frequent sweeps say 0: their next run is the retry). Business
    errors are not retried. Tasks are safe to run twice, so a retry of one that got
    half-way does no harm."""

    autoretry_for = TRANSIENT
    retry_backoff = 2
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 10

    def retry(
        self,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
        exc: Exception | None = None,
        *rest: Any,
        **options: Any,
    ) -> Retry:
        if self.request.is_eager and isinstance(exc, TRANSIENT):
            # In-process (the test suite) there is no later to wait for: the caller sees the
            # error, as it would have without a task.
            raise exc
        return super().retry(args, kwargs, exc, *rest, **options)
