"""The base of every API view, and the platform's own endpoints (the event feed)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms import audit
from oms.actors import Actor
from oms.api import idempotency
from oms.api.authentication import request_actor
from oms.api.json_types import StrictCharField
from oms.api.query import WholeNumberField
from oms.models import IdempotencyKey, OutboxEvent
from oms.scopes import Scope


class ApiMixin(APIView):
    """Authentication, scope, throttling and problem details come from REST_FRAMEWORK
    settings. This adds, for every view: the request's actor in the audit context and
    Idempotency-Key handling on POST."""

    required_scope: str
    # Scopes for methods that need another scope than required_scope, e.g. PATCH.
    method_scopes: dict[str, str] = {}
    # Methods that read If-Match: True where it is required, False where optional. The
    # OpenAPI schema declares the header from this, and preconditions.if_match reads it.
    if_match: dict[str, bool] = {}
    actor: Actor
    idempotency: IdempotencyKey | None
    _acting: AbstractContextManager[None] | None

    def scope_for(self, method: str) -> str:
        return self.method_scopes.get(method, self.required_scope)

    def perform_authentication(self, request: Request) -> None:
        try:
            super().perform_authentication(request)
        except exceptions.AuthenticationFailed:
            self._throttle_once(request)  # wrong credentials count as anonymous
            raise

    def check_permissions(self, request: Request) -> None:
        # Unauthenticated requests are throttled before they are refused for lacking
        # credentials; DRF would check permissions first and never throttle them.
        if not request.user.is_authenticated:
            self._throttle_once(request)
        super().check_permissions(request)

    def check_throttles(self, request: Request) -> None:
        self._throttle_once(request)

    def _throttle_once(self, request: Request) -> None:
        if not getattr(request, "_oms_throttled", False):
            request._oms_throttled = True  # type: ignore[attr-defined]  # a mark of our own
            super().check_throttles(request)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.actor = request_actor(request)
        self._acting = audit.acting(self.actor)
        self._acting.__enter__()
        self.idempotency = idempotency.begin(request) if request.method == "POST" else None

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return exc.response()
        return super().handle_exception(exc)

    # DRF returns whatever response it is given here; its stubs say a Response.
    def finalize_response(  # type: ignore[override]
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response | HttpResponse:
        response = super().finalize_response(request, response, *args, **kwargs)
        finished: Response | HttpResponse = response
        # Neither is set when the request failed before initial() got to it.
        if (record := getattr(self, "idempotency", None)) is not None:
            self.idempotency = None
            finished = idempotency.finish(record, response)
        if (acting := getattr(self, "_acting", None)) is not None:
            acting.__exit__(None, None, None)
            self._acting = None
        return finished


class OutboxEventSerializer(serializers.ModelSerializer):
    cursor = serializers.CharField(source="id", help_text="Pass as ?after= to read on.")
    aggregate = serializers.SerializerMethodField()

    class Meta:
        model = OutboxEvent
        fields = ["cursor", "event_type", "aggregate", "payload", "correlation_id", "created_at"]

    def get_aggregate(self, event: OutboxEvent) -> dict:
        return {"type": event.aggregate_type, "id": event.aggregate_id}


class EventPageSerializer(serializers.Serializer):
    results = OutboxEventSerializer(many=True)
    next_cursor = serializers.CharField(help_text="The cursor to pass as ?after= next time.")
    has_more = serializers.BooleanField()


class EventQuery(serializers.Serializer):
    after = WholeNumberField(
        min_value=0, max_value=2**63 - 1, default=0, help_text="Events after this cursor."
    )
    limit = WholeNumberField(
        min_value=1, max_value=500, default=100, help_text="At most this many (max 500)."
    )
    type = StrictCharField(max_length=64, required=False, help_text="Only this type.")


class EventFeedApi(ApiMixin, GenericAPIView):
    """The outbox as a feed, oldest first. Poll with ?after=<next_cursor>; an empty
    page means you are up to date. Events are never changed once written."""

    required_scope = Scope.EVENTS_READ
    pagination_class = None
    serializer_class = OutboxEventSerializer

    @extend_schema(parameters=[EventQuery], responses=EventPageSerializer)
    def get(self, request: Request) -> Response:
        query = EventQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        events = OutboxEvent.objects.filter(id__gt=after).order_by("id")
        if "type" in query.validated_data:
            events = events.filter(event_type=query.validated_data["type"])
        page = list(events[: limit + 1])
        has_more = len(page) > limit
        page = page[:limit]
        return Response(
            {
                "results": OutboxEventSerializer(page, many=True).data,
                "next_cursor": str(page[-1].id if page else after),
                "has_more": has_more,
            }
        )
