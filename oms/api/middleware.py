"""Keeps /api/ free of HTML: errors raised before or outside a DRF view (unknown URL,
a body too large, a crash in middleware) become problem details too."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from oms.api.problems import CONTENT_TYPE, problem_response

logger = logging.getLogger("oms.api")

API_PREFIX = "/api/"

# What a middleware is given to answer the request with the rest of the stack.
GetResponse = Callable[[HttpRequest], HttpResponseBase]


class ApiProblemMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        too_big = self._too_big(request)
        if too_big:
            return too_big
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            (CONTENT_TYPE, "application/json")
        ):
            return self._as_problem(response.status_code)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, RequestDataTooBig):
            return self._payload_too_large()
        logger.exception("Unhandled error on %s", request.path)
        return problem_response(500, "server_error", "An unexpected error occurred.")

    def _too_big(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(400, "invalid_length", "Content-Length is not a number.")
        if length > settings.OMS_API_MAX_BODY_BYTES:
            return self._payload_too_large()
        return None

    def _payload_too_large(self) -> HttpResponse:
        limit = settings.OMS_API_MAX_BODY_BYTES
        return problem_response(
            413, "payload_too_large", f"Request bodies are limited to {limit} bytes."
        )

    def _as_problem(self, status: int) -> HttpResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 403: "forbidden"}
        details = {
            404: "There is no such resource.",
            405: "The method is not allowed here.",
            403: "You may not do this.",
        }
        return problem_response(
            status,
            codes.get(status, "error"),
            details.get(status, "The request failed."),
        )


class PlainHttpCredentialsMiddleware:
    """When HTTPS is required (SECURE_SSL_REDIRECT), an API request that came over plain
    HTTP carrying credentials is refused with 403, not redirected: a redirect would
    have the client send its token again and teach it that plain HTTP works. Pages
    and API requests without credentials are still redirected to HTTPS."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            settings.SECURE_SSL_REDIRECT
            and request.path.startswith(API_PREFIX)
            and not request.is_secure()
            and self._carries_credentials(request)
        ):
            return problem_response(
                403,
                "https_required",
                "HTTPS is required: this request carried credentials over plain HTTP and "
                "was refused. Send it to the https:// address, and treat the token it "
                "carried as exposed (rotate it).",
            )
        return self.get_response(request)

    @staticmethod
    def _carries_credentials(request: HttpRequest) -> bool:
        return bool(
            request.META.get("HTTP_AUTHORIZATION")
            or request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        )
