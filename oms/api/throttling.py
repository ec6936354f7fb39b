from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from oms.api.authentication import caller_key
from oms.models import ApiClient


class CallerRateThrottle(SimpleRateThrottle):
    """One budget per caller: the client's own rate if set, else the default."""

    scope = "caller"

    def get_rate(self):
        return settings.OMS_API_THROTTLE_RATE

    def allow_request(self, request, view):
        if isinstance(request.auth, ApiClient) and request.auth.throttle_rate:
            self.rate = request.auth.throttle_rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return f"oms-throttle:{caller_key(request)}"
