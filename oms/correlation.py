"""Correlation ids: one id follows a request through everything it causes.

The id lives in a context variable. The HTTP middleware sets it from the
X-Correlation-ID header (or makes one); history records, outbox events and log lines
read it; Celery carries it in task headers and restores it in the worker.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Task

HEADER = "X-Correlation-ID"
# Celery uses "correlation_id" itself (the task id), so ours has its own name.
CELERY_HEADER = "oms_correlation_id"
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")

_current: ContextVar[str] = ContextVar("correlation_id", default="")


def new_id() -> str:
    return uuid.uuid4().hex


def is_valid(value: str) -> bool:
    return bool(_VALID.match(value))


def get() -> str:
    return _current.get()


@contextmanager
def use(correlation_id: str | None) -> Iterator[str]:
    """Run a block under the given correlation id (a new one when empty)."""
    token = _current.set(correlation_id or new_id())
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    def add_header(headers: dict[str, Any] | None = None, **kwargs: object) -> None:
        if headers is not None and get():
            headers.setdefault(CELERY_HEADER, get())

    tokens: dict[str, Token[str]] = {}

    def restore(task_id: str, task: Task, **kwargs: object) -> None:
        # A task run in-process (the test suite) is not published: it keeps the caller's id.
        value = (
            getattr(task.request, CELERY_HEADER, None)
            or (get() if task.request.is_eager else None)
            or new_id()
        )
        tokens[task_id] = _current.set(value)

    def clear(task_id: str, **kwargs: object) -> None:
        token = tokens.pop(task_id, None)
        if token is not None:
            _current.reset(token)

    before_task_publish.connect(add_header, weak=False)
    task_prerun.connect(restore, weak=False)
    task_postrun.connect(clear, weak=False)
