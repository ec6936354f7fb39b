"""Calling OMS back: callbacks wait for their time in a queue and a few threads send
them. Like a real system, the simulator keeps trying when OMS is away: connection
errors, timeouts, 5xx and 429 are retried with backoff, and so is 409 for a while (the
order may not be there yet: a return before the completion arrived). Other answers are
final."""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

logger = logging.getLogger("oms.simulator")

MAX_ATTEMPTS = 200
MAX_CONFLICT_ATTEMPTS = 20
MAX_WAIT_SECONDS = 10.0


@dataclass
class Callback:
    kind: str  # accepted, rejected, completed, returns, stock-receipts, stock-adjustments
    path: str
    body: dict
    correlation_id: str = ""
    release_id: str = ""
    attempts: int = 0
    conflicts: int = 0


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    callback: Callback = field(compare=False)


class CallbackSender:
    def __init__(
        self,
        oms_url: str,
        token: str,
        *,
        workers: int = 4,
        on_result: Callable[[Callback, int, dict], None] | None = None,
    ):
        self.oms_url = oms_url.rstrip("/")
        self.token = token
        self.on_result = on_result or (lambda callback, status, body: None)
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._stopped = False
        self._local = threading.local()
        self._threads = [
            threading.Thread(target=self._work, name=f"callbacks-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def schedule(self, callback: Callback, delay: float = 0.0) -> None:
        with self._cond:
            heapq.heappush(self._queue, _Due(time.monotonic() + delay, next(self._seq), callback))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._busy

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (
                    not self._queue or self._queue[0].at > time.monotonic()
                ):
                    timeout = self._queue[0].at - time.monotonic() if self._queue else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                callback = heapq.heappop(self._queue).callback
                self._busy += 1
            try:
                self._send(callback)
            except Exception:  # a bug here must not stop the sender
                logger.exception("Callback %s could not be sent", callback.path)
            finally:
                with self._cond:
                    self._busy -= 1

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _send(self, callback: Callback) -> None:
        callback.attempts += 1
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if callback.correlation_id:
            headers["X-Correlation-ID"] = callback.correlation_id
        try:
            response = self._session().post(
                f"{self.oms_url}{callback.path}", json=callback.body, headers=headers, timeout=30
            )
        except requests.RequestException as exc:
            self._retry(callback, f"{type(exc).__name__}")
            return
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        if status >= 500 or status == 429:
            self._retry(callback, str(status))
        elif status == 409 and callback.conflicts < MAX_CONFLICT_ATTEMPTS:
            callback.conflicts += 1
            self._retry(callback, f"409 {body.get('detail', '')}")
        else:
            level = logging.INFO if status < 400 else logging.WARNING
            logger.log(
                level,
                "callback %s %s -> %s %s",
                callback.kind,
                callback.body.get("event_id"),
                status,
                body.get("outcome") or body.get("detail", ""),
            )
            self.on_result(callback, status, body)

    def _retry(self, callback: Callback, why: str) -> None:
        if callback.attempts >= MAX_ATTEMPTS:
            logger.error("callback %s given up after %s: %s", callback.path, callback.attempts, why)
            self.on_result(callback, 0, {"detail": why})
            return
        wait = min(MAX_WAIT_SECONDS, 0.25 * 2 ** min(callback.attempts, 8))
        wait = wait / 2 + random.uniform(0, wait / 2)
        logger.info("callback %s failed (%s); again in %.1f s", callback.path, why, wait)
        self.schedule(callback, wait)
