from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle, BaseThrottle

from oms.api.authentication import caller_key
from oms.client_ip import client_ip
from oms.models import ApiClient

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

DURATIONS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "1200/min" -> (1200, 60)."""
    count, _, period = rate.partition("/")
    return int(count), DURATIONS[period.strip().lower()]


class CallerRateThrottle(BaseThrottle):
    """One budget per caller (the client's own rate if set, else OMS_API_THROTTLE_RATE),
    counted in fixed windows: one cache increment per request."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        if not request.user or not request.user.is_authenticated:
            return True
        rate = settings.OMS_API_THROTTLE_RATE
        if isinstance(request.auth, ApiClient) and request.auth.throttle_rate:
            rate = request.auth.throttle_rate
        limit, duration = parse_rate(rate)
        now = time.time()
        key = f"oms-throttle:{caller_key(request)}:{int(now // duration)}"
        if cache.add(key, 1, timeout=duration + 1):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # the window ended between add and incr
                cache.add(key, 1, timeout=duration + 1)
                count = 1
        self._wait = duration - (now % duration)
        return count <= limit

    def wait(self) -> float:
        return self._wait


class AnonymousRateThrottle(AnonRateThrottle):
    """Requests without valid credentials: OMS_API_ANON_THROTTLE_RATE per client
    address. Counted before such a request is refused (ApiMixin), so that guessing
    tokens is throttled too."""

    def get_rate(self) -> str:
        return settings.OMS_API_ANON_THROTTLE_RATE

    def get_ident(self, request: Request) -> str:
        return client_ip(request)
