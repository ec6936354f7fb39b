from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.utils.cache import add_never_cache_headers

from oms import audit, correlation, logs, outages, untrusted
from oms.actors import Actor
from oms.api.middleware import API_PREFIX, GetResponse
from oms.api.problems import database_unavailable_response, problem_response


class DatabaseOutageMiddleware:
    """A view that finds the database unreachable answers 503 with Retry-After (see
    oms.outages), not 500. Errors raised in other middleware reach handler500 (DEBUG
    off), which answers the same; DRF views answer it from the API's exception handler."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        if not outages.database_unreachable(exception):
            return None
        outages.database.failed(exception)
        return database_unavailable_response(request)


class CorrelationIdMiddleware:
    """Accept X-Correlation-ID (or make one), run the request under it, echo it back."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.headers.get(correlation.HEADER, "")
        with correlation.use(incoming if correlation.is_valid(incoming) else None) as value:
            # Not read by OMS itself; HttpRequest has no such attribute in its stubs.
            request.correlation_id = value  # type: ignore[attr-defined]
            response = self.get_response(request)
        response[correlation.HEADER] = value
        return response


class ActorMiddleware:
    """A signed-in person is the actor of everything their request changes. Once it has
    read who signed in, the request says so (`user_read`): the log filter (oms.logs)
    names the person only then, never loading them itself."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        person = user if user is not None and user.is_authenticated else None
        setattr(request, logs.USER_READ, True)
        if person is not None:
            with audit.acting(Actor.person(person)):
                return self.get_response(request)
        return self.get_response(request)


class BadTextMiddleware:
    """Refuse paths and query parameters holding NUL, lone surrogates or bytes that
    are not UTF-8 with 400 naming the parameter, before any view looks up or filters
    with them (problem details under /api/, a plain page elsewhere). Django would pass
    NUL on to the database and silently turn undecodable bytes into U+FFFD. Form fields
    are checked by their forms (Django's CharField refuses NUL as a form error) and JSON
    bodies by the API's parser.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if reason := untrusted.text_problem(request.path):
            name, detail = "path", f"The path {reason}."
        elif found := _first_bad_pair(request.META.get("QUERY_STRING", "")):
            name, reason = found
            detail = f"The query parameter {name!r} {reason}."
        else:
            return self.get_response(request)
        if request.path.startswith(API_PREFIX):
            field_error = {"field": name, "code": "invalid_text", "message": detail}
            return problem_response(
                400, "invalid_text", "The request is not valid; see errors.", errors_=[field_error]
            )
        return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")


def _first_bad_pair(encoded: str) -> tuple[str, str] | None:
    """The first name=value pair of a urlencoded string whose name or value is refused.
    Bytes that are not UTF-8 decode to lone surrogates here, so they are refused too."""
    if not encoded:
        return None
    text = encoded.encode("latin-1", "replace").decode("utf-8", "surrogateescape")
    for name, value in parse_qsl(text, keep_blank_values=True, errors="surrogateescape"):
        reason = untrusted.text_problem(name) or untrusted.text_problem(value)
        if reason:
            return untrusted.printable(name), reason
    return None


class NoStoreMiddleware:
    """Pages for a signed-in person and every API answer are never stored by a browser
    or a proxy (Cache-Control: no-store). Static files are answered before the request
    is signed in (WhiteNoise), so they keep their caching."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path.startswith(API_PREFIX):
            add_never_cache_headers(response)
        return response
