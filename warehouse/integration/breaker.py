"""A circuit breaker per warehouse system, shared by every worker through the cache
(Redis when REDIS_URL is set).

Closed: calls go through. After OMS_WAREHOUSE_BREAKER_FAILURES failures in a row the
breaker opens: for OMS_WAREHOUSE_BREAKER_COOLDOWN_SECONDS no call is made and senders
wait. Then it is half-open: one caller at a time may probe; a success closes it, a
failure opens it again for another cool-down. Only failures a retry could fix count
(see warehouse.client); an answer such as 400 shows the system is up.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("oms.warehouse")

# How long a probe may take before another caller may probe instead.
PROBE_GRACE_SECONDS = 5.0


class State(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


def now() -> float:
    return time.time()


@dataclass(frozen=True)
class Breaker:
    name: str

    def _key(self, part: str) -> str:
        return f"oms:breaker:{self.name}:{part}"

    @property
    def threshold(self) -> int:
        return settings.OMS_WAREHOUSE_BREAKER_FAILURES

    @property
    def cooldown(self) -> float:
        return settings.OMS_WAREHOUSE_BREAKER_COOLDOWN_SECONDS

    def state(self) -> tuple[State, float | None]:
        """The state, and while open the time (epoch seconds) it becomes half-open."""
        open_until = cache.get(self._key("open_until"))
        if open_until is None:
            return State.CLOSED, None
        if now() < open_until:
            return State.OPEN, open_until
        return State.HALF_OPEN, None

    def wait_before_call(self) -> float | None:
        """None when a call may go now (closed, or this caller is the half-open probe);
        otherwise how many seconds to wait before trying again."""
        state, open_until = self.state()
        if state == State.CLOSED:
            return None
        if state == State.OPEN:
            return open_until - now()
        probe_ttl = int(
            settings.OMS_WAREHOUSE_CONNECT_TIMEOUT_SECONDS
            + settings.OMS_WAREHOUSE_TIMEOUT_SECONDS
            + PROBE_GRACE_SECONDS
        )
        if cache.add(self._key("probe"), 1, timeout=probe_ttl):
            return None
        return min(self.cooldown, PROBE_GRACE_SECONDS)

    def record_success(self) -> None:
        if cache.get(self._key("open_until")) is not None:
            logger.info("Circuit of warehouse %s closed: the system answers again", self.name)
        cache.delete_many([self._key("failures"), self._key("open_until"), self._key("probe")])

    def record_failure(self) -> None:
        key = self._key("failures")
        cache.add(key, 0, timeout=None)
        try:
            failures = cache.incr(key)
        except ValueError:  # removed in between by a success
            cache.add(key, 1, timeout=None)
            failures = 1
        probing = cache.get(self._key("probe")) is not None
        if probing or failures >= self.threshold:
            cache.set(self._key("open_until"), now() + self.cooldown, timeout=None)
            cache.delete(self._key("probe"))
            logger.warning(
                "Circuit of warehouse %s open for %.0f s after %d failures in a row",
                self.name,
                self.cooldown,
                failures,
            )
