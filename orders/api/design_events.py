"""Design events: the engineering system sends them; anyone with orders:read sees
their status and outcome; coordinators correct and reprocess dead letters."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from oms.api.views import ApiMixin
from oms.errors import Problem, ValidationFailed
from oms.scopes import Scope
from orders import ingestion
from orders.models import DesignEvent

MAX_EVENTS = 500

EXAMPLE = {
    "event_id": "eng-2026-000123",
    "type": "design_approved",
    "project_id": "PRJ-2026001",
    "order_type": "radio",
    "occurred_at": "2026-11-01T09:00:00Z",
    "need_by": "2026-12-15",
    "national_priority": 2,
    "plan_type": "coverage",
    "items": [{"item": "RRU-01", "quantity": 3}, {"item": "ANT-01", "quantity": 3}],
    "kits": [{"kit": "KIT-SECTOR", "quantity": 3}],
}


class DesignEventSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number", allow_null=True, default=None)

    class Meta:
        model = DesignEvent
        fields = [
            "event_id",
            "event_type",
            "project_external_id",
            "order_type",
            "occurred_at",
            "status",
            "outcome",
            "problems",
            "order",
            "received_from",
            "received_at",
            "processed_at",
            "payload",
            "corrected_payload",
        ]


class ReceiptSerializer(serializers.Serializer):
    event_id = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    outcome = serializers.CharField()
    order = serializers.CharField(allow_null=True)
    problems = serializers.ListField(child=serializers.DictField())


class ReceiptsSerializer(serializers.Serializer):
    results = ReceiptSerializer(many=True)


class CorrectionInput(serializers.Serializer):
    payload = serializers.JSONField(help_text="The whole corrected event (same event_id).")


class DesignEventFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DesignEvent.Status.choices)
    project = django_filters.CharFilter(field_name="project_external_id")
    order_type = django_filters.CharFilter()

    class Meta:
        model = DesignEvent
        fields: list[str] = []


def _receipts(received) -> list[dict]:
    """Each event's status and outcome so far, read again in one query (processing may
    have run since the event was stored)."""
    fresh = DesignEvent.objects.select_related("order").in_bulk(
        [r.event.pk for r in received if r.event is not None]
    )
    results = []
    for r in received:
        if r.event is None:
            results.append(
                {
                    "event_id": r.event_id,
                    "status": "rejected",
                    "outcome": "invalid",
                    "order": None,
                    "problems": [p.as_dict() for p in r.problems],
                }
            )
            continue
        event = fresh[r.event.pk]
        results.append(
            {
                "event_id": event.event_id,
                "status": event.status,
                "outcome": "duplicate" if r.duplicate else (event.outcome or "pending"),
                "order": event.order.number if event.order_id else None,
                "problems": event.problems,
            }
        )
    return results


class DesignEventListApi(ApiMixin, generics.ListAPIView):
    """Received design events, newest first; `?status=invalid` lists the dead letters."""

    required_scope = Scope.ORDERS_READ
    method_scopes = {"POST": Scope.ENGINEERING_WRITE}
    serializer_class = DesignEventSerializer
    filterset_class = DesignEventFilter
    # A list reports each bad event by itself (oms.api.parsers).
    per_record_text = True

    def get_queryset(self):
        return DesignEvent.objects.select_related("order").order_by("-received_at", "-id")

    @extend_schema(
        summary="Send one design event or a list (at most 500)",
        description="Each event is stored as sent, then processed (in a background task). "
        "The answer gives each event's status and outcome so far; a repeated event id is a "
        "`duplicate` and changes nothing. Follow up with GET /design-events/{event_id}/.",
        request={"application/json": {"oneOf": [{"type": "object"}, {"type": "array"}]}},
        responses={202: ReceiptsSerializer},
        examples=[OpenApiExample("A design", value=EXAMPLE, request_only=True)],
    )
    def post(self, request):
        body = request.data
        events = body if isinstance(body, list) else [body]
        if not events or len(events) > MAX_EVENTS:
            raise ValidationFailed(
                f"Send 1 to {MAX_EVENTS} events.",
                problems=[Problem(code="count", message=f"{len(events)} events sent.")],
            )
        received = ingestion.receive_many(events, received_from=self.actor.name)
        if not isinstance(body, list) and received[0].event is None:
            raise ValidationFailed("The event cannot be stored.", problems=received[0].problems)
        ingestion.schedule(
            (r.event for r in received if r.event and not r.duplicate), source=self.actor.name
        )
        return Response({"results": _receipts(received)}, status=status.HTTP_202_ACCEPTED)


class DesignEventDetailApi(ApiMixin, generics.GenericAPIView):
    """One event: as sent, as corrected, its status, outcome, problems and order."""

    required_scope = Scope.ORDERS_READ
    serializer_class = DesignEventSerializer
    queryset = DesignEvent.objects.none()

    def get(self, request, event_id):
        event = get_object_or_404(DesignEvent.objects.select_related("order"), event_id=event_id)
        return Response(DesignEventSerializer(event).data)


class DesignEventCorrectApi(ApiMixin, generics.GenericAPIView):
    """Correct an invalid event (the original is kept) and process it again."""

    required_scope = Scope.ORDERS_WRITE
    serializer_class = DesignEventSerializer
    queryset = DesignEvent.objects.none()

    @extend_schema(request=CorrectionInput, responses=DesignEventSerializer)
    def post(self, request, event_id):
        data = CorrectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        event = get_object_or_404(DesignEvent, event_id=event_id)
        event = ingestion.correct(
            event=event, payload=data.validated_data["payload"], actor=self.actor
        )
        event = ingestion.process(event)
        return Response(DesignEventSerializer(event).data)


class DesignEventReprocessApi(ApiMixin, generics.GenericAPIView):
    """Process an invalid event again as it is; a processed event is left alone."""

    required_scope = Scope.ORDERS_WRITE
    serializer_class = DesignEventSerializer
    queryset = DesignEvent.objects.none()

    @extend_schema(request=None, responses=DesignEventSerializer)
    def post(self, request, event_id):
        event = get_object_or_404(DesignEvent, event_id=event_id)
        return Response(
            DesignEventSerializer(ingestion.reprocess(event=event, actor=self.actor)).data
        )
