"""OpenAPI details that every endpoint shares: the bearer scheme, the scope each
operation needs, and its problem-details error responses."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


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
    errors = FieldErrorSerializer(many=True, required=False)


def problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(ProblemSerializer, description=description)


COMMON_ERRORS = {
    401: problem("No or unknown token."),
    403: problem("The token or role lacks the scope."),
    413: problem("The body is too large."),
    429: problem("Too many requests; see Retry-After."),
    500: problem("Unexpected error."),
}
WRITE_ERRORS = {
    400: problem("Malformed or invalid input; `errors` lists each field."),
    409: problem("Conflict with the current state, or the Idempotency-Key is in use."),
    415: problem("The body is not JSON."),
    422: problem("A rule refused the request, or the Idempotency-Key was used for another."),
}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Retry-safe POST: a replay returns the first outcome (kept 24 hours).",
)
CORRELATION_ID = OpenApiParameter(
    "X-Correlation-ID",
    str,
    OpenApiParameter.HEADER,
    description="Traces the request through history, events and tasks; made if absent.",
)


class AutoSchema(BaseAutoSchema):
    def get_description(self):
        description = super().get_description() or ""
        scope = getattr(self.view, "required_scope", None)
        if scope:
            description = f"{description}\n\n**Scope:** `{scope}`".strip()
        return description

    def get_override_parameters(self):
        parameters = [*super().get_override_parameters(), CORRELATION_ID]
        if self.method == "POST":
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def get_response_serializers(self):
        responses = super().get_response_serializers()
        if not getattr(self.view, "required_scope", None):
            return responses
        if not isinstance(responses, dict):
            responses = {self._default_status(): responses}
        extra = dict(COMMON_ERRORS)
        if self.method in ("POST", "PATCH", "PUT"):
            extra.update(WRITE_ERRORS)
        if "{" in self.path:
            extra[404] = problem("No such resource.")
        return {**extra, **responses}

    def _default_status(self) -> int:
        return 201 if self.method == "POST" and self._is_create_operation() else 200


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "oms.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A client token from `manage.py create_api_client`.",
        }
