from django.utils.cache import add_never_cache_headers

from oms import audit, correlation
from oms.actors import Actor


class CorrelationIdMiddleware:
    """Accept X-Correlation-ID (or make one), run the request under it, echo it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(correlation.HEADER, "")
        with correlation.use(incoming if correlation.is_valid(incoming) else None) as value:
            request.correlation_id = value
            response = self.get_response(request)
        response[correlation.HEADER] = value
        return response


class ActorMiddleware:
    """A signed-in person is the actor of everything their request changes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            with audit.acting(Actor.person(user)):
                return self.get_response(request)
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages for a signed-in person and every API answer are never stored by a browser
    or a proxy (Cache-Control: no-store). Static files are answered before this runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path.startswith("/api/"):
            add_never_cache_headers(response)
        return response
