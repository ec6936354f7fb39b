"""Every API error is an RFC 9457 problem details object (application/problem+json):
type, title, status, detail, a machine-readable code, and for validation a list of
field errors. One shape for DRF's errors, domain errors, and errors raised before any
view runs (unknown URL, body too large, crash)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from rest_framework import exceptions
from rest_framework.response import Response

from oms import errors, outages

logger = logging.getLogger("oms.api")

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://oms.example/problems/"

# Domain errors map to HTTP statuses here, and nowhere else.
DOMAIN_STATUS: dict[type[errors.DomainError], int] = {
    errors.ActionForbidden: 403,
    errors.NotFound: 404,
    errors.TransitionNotAllowed: 409,
    errors.StaleVersion: 409,
    errors.InsufficientStock: 409,
    errors.ValidationFailed: 422,
    errors.ReasonRequired: 422,
    errors.ApprovalBlocked: 422,
    errors.FourEyesViolation: 422,
}


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_detail = "The resource changed since you read it."
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = "Send If-Match with the ETag you read."
    default_code = "precondition_required"


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class UnprocessableEntity(exceptions.APIException):
    status_code = 422
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


def problem(
    status: int, code: str, detail: str, *, title: str = "", errors_: list[dict] | None = None
) -> dict:
    body: dict[str, Any] = {
        "type": f"{TYPE_BASE}{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors_:
        body["errors"] = errors_
    return body


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    errors_: list[dict] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """A Django response, for errors raised outside DRF views (middleware, handlers)."""
    response = HttpResponse(
        json.dumps(problem(status, code, detail, errors_=errors_)),
        status=status,
        content_type=CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def field_errors(detail: object, prefix: str = "") -> list[dict]:
    """Flatten DRF's nested validation detail into [{field, code, message}]."""
    out: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "non_field_errors":
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else key
            out += field_errors(value, path)
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            out += [
                {"field": prefix, "code": item.code or "invalid", "message": str(item)}
                for item in detail
            ]
        else:
            for index, item in enumerate(detail):
                out += field_errors(item, f"{prefix}[{index}]")
    else:
        out.append(
            {"field": prefix, "code": getattr(detail, "code", "invalid"), "message": str(detail)}
        )
    return out


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception becomes a problem response."""
    headers = {}
    if isinstance(exc, errors.DomainError):
        status = next((s for t, s in DOMAIN_STATUS.items() if isinstance(exc, t)), 422)
        body = problem(
            status, exc.code, exc.message, errors_=[p.as_dict() for p in exc.problems] or None
        )
        return Response(body, status=status, content_type=CONTENT_TYPE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if outages.database_unreachable(exc):
        outages.database.failed(exc)
        body = problem(503, outages.UNAVAILABLE_CODE, outages.unavailable_detail())
        return Response(
            body, status=503, headers=outages.unavailable_headers(), content_type=CONTENT_TYPE
        )
    if not isinstance(exc, exceptions.APIException):
        logger.exception("Unhandled error in %s", context["view"].__class__.__name__)
        body = problem(500, "server_error", "An unexpected error occurred; it has been logged.")
        return Response(body, status=500, content_type=CONTENT_TYPE)

    if isinstance(exc, exceptions.ValidationError):
        body = problem(
            400,
            "invalid",
            "The request is not valid; see errors.",
            errors_=field_errors(exc.detail),
        )
        return Response(body, status=400, content_type=CONTENT_TYPE)
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if (wait := getattr(exc, "wait", None)) is not None:
        headers["Retry-After"] = str(max(1, int(wait + 0.999)))
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    body = problem(exc.status_code, code, detail)
    return Response(body, status=exc.status_code, headers=headers, content_type=CONTENT_TYPE)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: problem details under /api/, a plain page elsewhere (one
    that needs neither the database nor a signed-in user)."""
    headers = outages.unavailable_headers()
    if request.path.startswith("/api/"):
        return problem_response(
            503, outages.UNAVAILABLE_CODE, outages.unavailable_detail(), headers=headers
        )
    page = render_to_string(
        "oms/unavailable.html", {"retry_seconds": settings.OMS_OUTAGE_RETRY_SECONDS}
    )
    response = HttpResponse(page, status=503)
    for name, value in headers.items():
        response[name] = value
    return response
