"""Tasks retry the errors a retry can fix (the broker, Redis or the database cannot be
reached), with backoff and jitter, on a real worker; business errors are not retried."""

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerUnreachable
from redis.exceptions import ConnectionError as RedisUnreachable

from oms import celery_app
from oms.errors import ValidationFailed
from oms.retry import RetryOnOutage

attempts: dict[str, list[float]] = {}
finished = threading.Event()
FAILURES = {
    "database": OperationalError("connection failed: Connection refused"),
    "database-closed": InterfaceError("connection already closed"),
    "broker": BrokerUnreachable("Error 111 connecting to 127.0.0.1:6390."),
    "redis": RedisUnreachable("Error 111 connecting to 127.0.0.1:6390."),
    "business": ValidationFailed("not a connection problem"),
}


@celery_app.task(name="tests.fails_twice", retry_backoff=1, retry_backoff_max=2)
def fails_twice(kind: str) -> str:
    attempts.setdefault(kind, []).append(time.monotonic())
    if len(attempts[kind]) <= 2:
        raise FAILURES[kind]
    finished.set()
    return "done"


def test_every_task_of_oms_retries_connection_errors():
    celery_app.loader.import_default_modules()
    ours = [
        task
        for name, task in celery_app.tasks.items()
        if name.split(".")[0] in {"oms", "orders", "warehouse", "allocation"}
    ]
    assert len(ours) >= 15
    for task in ours:
        assert isinstance(task, RetryOnOutage), task.name
        assert issubclass(OperationalError, task.autoretry_for), task.name
        assert hasattr(task, "_orig_run"), task.name  # Celery wrapped it to retry


@pytest.mark.parametrize("kind", ["database", "database-closed", "broker", "redis"])
def test_a_task_that_hits_a_connection_error_is_retried_after_a_backoff_by_the_worker(
    private_broker, kind
):
    attempts.pop(kind, None)
    finished.clear()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        fails_twice.delay(kind)
        assert finished.wait(timeout=30), f"never succeeded: {attempts.get(kind)}"

    assert len(attempts[kind]) == 3


def test_a_business_error_is_not_retried(private_broker):
    attempts.pop("business", None)
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        fails_twice.delay("business")
        time.sleep(3)

    assert len(attempts["business"]) == 1


def test_in_process_without_a_broker_a_connection_error_reaches_the_caller():
    attempts.pop("database", None)
    with pytest.raises(OperationalError):
        fails_twice.delay("database")
    assert len(attempts["database"]) == 1
