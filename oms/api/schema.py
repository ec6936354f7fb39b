"""OpenAPI details that every endpoint shares: the bearer scheme, the scope each
operation needs, the headers it reads, and its problem-details error responses. Each
header is declared as the server enforces it."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import (
    Direction,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
)
from rest_framework import serializers

from oms.api import idempotency
from oms.api.problems import CONTENT_TYPE


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(required=False)
    code = serializers.CharField()
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    # A declared field: DRF's metaclass takes it off the class, so it does not hide
    # Serializer.errors, as its stubs take it to.
    errors = FieldErrorSerializer(many=True, required=False)  # type: ignore[assignment]


def problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(ProblemSerializer, description=description)


COMMON_ERRORS = {
    400: problem("Malformed or invalid input; `errors` lists each field."),
    401: problem("No or unknown token."),
    403: problem("The token or role lacks the scope."),
    413: problem("The body is too large."),
    429: problem("Too many requests; see Retry-After."),
    500: problem("Unexpected error."),
}
WRITE_ERRORS = {
    409: problem("Conflict with the current state, or the Idempotency-Key is in use."),
    415: problem("The body is not JSON."),
    422: problem("A rule refused the request, or the Idempotency-Key was used for another."),
}

IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    str,
    OpenApiParameter.HEADER,
    pattern=idempotency.KEY_PATTERN,
    description="Retry-safe POST: a replay returns the first outcome (kept 24 hours). "
    f"1 to {idempotency.MAX_KEY_LENGTH} visible ASCII characters; another value is 400.",
)
CORRELATION_ID = OpenApiParameter(
    "X-Correlation-ID",
    str,
    OpenApiParameter.HEADER,
    description="Traces the request through history, events and tasks. A value that is not "
    "1 to 64 of letters, digits and `._:-` is replaced by a new one, as is a missing one; "
    "the one used is echoed back.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag from your last read of this resource; another is 412, none 428.",
)
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="If sent, the ETag from your last read of this resource; another is 412.",
)


class AutoSchema(BaseAutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and hasattr(self.view, "scope_for"):
            scope = self.view.scope_for(self.method)
            description = operation.get("description", "")
            operation["description"] = f"{description}\n\n**Scope:** `{scope}`".strip()
        return operation

    def get_override_parameters(self) -> list[Any]:
        parameters = [*super().get_override_parameters(), CORRELATION_ID]
        if self.method == "POST":
            parameters.append(IDEMPOTENCY_KEY)
        if_match = getattr(self.view, "if_match", {}).get(self.method)
        if if_match is not None:
            parameters.append(IF_MATCH if if_match else IF_MATCH_OPTIONAL)
        return parameters

    def _get_request_for_media_type(
        self, serializer: Any, direction: Direction = "request"
    ) -> tuple[Any, bool]:
        """A body given as a raw schema or as one of several shapes is never optional in
        OMS (drf-spectacular cannot tell from them)."""
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, dict | PolymorphicProxySerializer):
            required = True
        return schema, required

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        """The operation's own responses plus the problem responses it can give (added
        here, after any @extend_schema override, so every operation lists them)."""
        bodies = super()._get_response_bodies(direction)
        if direction != "response" or not hasattr(self.view, "scope_for"):
            return bodies
        extra = dict(COMMON_ERRORS)
        if self.method in ("POST", "PATCH", "PUT"):
            extra.update(WRITE_ERRORS)
        if "{" in self.path:
            extra[404] = problem("No such resource.")
        if_match = getattr(self.view, "if_match", {}).get(self.method)
        if if_match is not None:
            extra[412] = problem("If-Match names another version: read the resource again.")
        if if_match:
            extra[428] = problem("If-Match is missing.")
        for code, response in extra.items():
            bodies.setdefault(
                str(code),
                self._get_response_for_code(response, str(code), media_types=[CONTENT_TYPE]),
            )
        return bodies


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "oms.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: BaseAutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A client token from `manage.py create_api_client`.",
        }
