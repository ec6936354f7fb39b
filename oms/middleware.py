from oms import audit, correlation, outages
from oms.actors import Actor


class DatabaseOutageMiddleware:
    """A view that finds the database unreachable answers 503 with Retry-After (see
    oms.outages), not 500. Errors raised in other middleware reach handler500 (DEBUG
    off), which answers the same; DRF views answer it from the API's exception handler."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not outages.database_unreachable(exception):
            return None
        outages.database.failed(exception)
        return outages.unavailable_response(request)


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
