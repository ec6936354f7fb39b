"""Celery with the real Redis broker: a task crosses to a worker with its correlation id."""

import threading

import pytest
from celery.contrib.testing.worker import start_worker

from oms import celery_app, correlation

pytestmark = pytest.mark.redis

seen: dict[str, str] = {}
done = threading.Event()


@celery_app.task(name="tests.record_correlation")
def record_correlation(marker):
    seen[marker] = correlation.get()
    done.set()


def test_a_task_sent_through_redis_runs_in_a_worker_with_the_correlation_id():
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            with correlation.use("trace-9"):
                record_correlation.delay("m1")
            assert done.wait(timeout=30), "the worker never ran the task"
    finally:
        celery_app.conf.task_always_eager = True

    assert seen["m1"] == "trace-9"
