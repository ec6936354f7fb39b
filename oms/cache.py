"""The shared cache (Redis) that fails open.

OMS keeps only what it can lose in the cache: API throttle counters, the warehouses'
circuit breakers, and keys that merge bursts of work (one relay start a second, one
allocation run after stock arrives). So while Redis cannot be reached, the cache acts
as an empty one instead of failing the request: a read finds nothing, a write is
dropped, `add` and `incr` report success. Every throttle counted in the cache (OMS's
own and any other) then lets requests through, a circuit breaker stays closed, and a
burst of work is not merged (each writer starts its own).

A failed call marks Redis as down in this process for OMS_REDIS_RETRY_SECONDS; calls
in that window do not try it (a Redis that does not answer costs one timeout per
window, not one per call). The outage is logged once when it starts and once when
Redis answers again, with how long it lasted. Short connect and read timeouts
(OMS_REDIS_TIMEOUT_SECONDS, see settings) keep a Redis that does not answer from
holding up requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from oms.outages import Outage

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache, acting as an empty cache while Redis cannot be reached."""

    outage = Outage(
        "The cache (Redis)",
        "acting as an empty cache until it is back: API throttles let every request "
        "through and circuit breakers stay closed.",
    )

    def _call(self, fallback: Any, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.outage.skip():
            return fallback
        try:
            value = method(*args, **kwargs)
        except UNREACHABLE as error:
            self.outage.failed(error)
            return fallback
        self.outage.succeeded()
        return value

    def add(
        self,
        key: Any,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        return self._call(True, super().add, key, value, timeout, version)

    def get(self, key: Any, default: Any | None = None, version: int | None = None) -> Any:
        return self._call(default, super().get, key, default, version)

    def set(
        self,
        key: Any,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> None:
        return self._call(None, super().set, key, value, timeout, version)

    def touch(
        self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._call(False, super().touch, key, timeout, version)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._call(False, super().delete, key, version)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._call({}, super().get_many, keys, version)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._call(False, super().has_key, key, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._call(delta, super().incr, key, delta, version)

    def set_many(
        self,
        data: dict[Any, Any],
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> list[Any]:
        return self._call([], super().set_many, data, timeout, version)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        return self._call(None, super().delete_many, keys, version)

    def clear(self) -> None:
        return self._call(False, super().clear)
