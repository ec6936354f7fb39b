"""Callbacks from the warehouse system (scope warehouse:write). Each view validates the
input and calls one use case of warehouse.callbacks; every callback carries the
warehouse's `event_id` and is applied once (a repeat gets the first answer, with
`Idempotent-Replayed: true`)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from oms.api.idempotency import REPLAYED_HEADER
from oms.api.json_types import (
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictRegexField,
)
from oms.api.views import ApiMixin
from oms.scopes import Scope
from warehouse.integration import callbacks
from warehouse.integration.choices import CallbackKind, ReleaseStatus
from warehouse.integration.models import Release
from warehouse.ledger.choices import Condition

EVENT_ID = StrictRegexField(
    r"^[A-Za-z0-9._:\-]{1,100}$",
    max_length=100,
    help_text="The warehouse's id of this event (letters, digits, . _ : -); the same id "
    "sent again is answered with the first outcome and has no further effect.",
)


class AcceptedInput(serializers.Serializer):
    event_id = EVENT_ID


class RejectedInput(serializers.Serializer):
    event_id = EVENT_ID
    reason = StrictCharField(max_length=400, help_text="Why the warehouse will not ship.")


class ShippedLineInput(serializers.Serializer):
    item = StrictCharField(max_length=40)
    shipped = StrictIntegerField(min_value=0, max_value=1_000_000)


class CompletedInput(serializers.Serializer):
    event_id = EVENT_ID
    lines = serializers.ListField(
        child=ShippedLineInput(),
        min_length=1,
        help_text="Every item of the release with the quantity shipped (0 if none).",
    )


class ReturnedLineInput(serializers.Serializer):
    item = StrictCharField(max_length=40)
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000)
    condition = StrictChoiceField(choices=Condition.choices)
    reason = StrictCharField(max_length=200)


class ReturnInput(serializers.Serializer):
    event_id = EVENT_ID
    lines = serializers.ListField(child=ReturnedLineInput(), min_length=1)


class StockInput(serializers.Serializer):
    event_id = EVENT_ID
    warehouse = StrictCharField(max_length=20)
    item = StrictCharField(max_length=40)
    quantity = StrictIntegerField(
        min_value=-1_000_000, max_value=1_000_000, help_text="Not 0: the count changed."
    )
    reason = StrictCharField(max_length=200, help_text="Delivery note, count reference.")


class StockReceiptInput(StockInput):
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000)


class ShippedSerializer(serializers.Serializer):
    item = serializers.CharField()
    shipped = serializers.IntegerField()


class StockSerializer(serializers.Serializer):
    warehouse = serializers.CharField()
    item = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()


class CallbackAnswerSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    outcome = serializers.CharField(
        help_text="What the callback did, e.g. accepted, already completed, completed short."
    )
    order = serializers.CharField(allow_null=True)
    order_status = serializers.CharField(allow_null=True)
    release_id = serializers.UUIDField(allow_null=True)
    release_status = serializers.ChoiceField(choices=ReleaseStatus.choices, allow_null=True)
    shipped = ShippedSerializer(many=True, required=False)
    return_id = serializers.IntegerField(required=False)
    movement_id = serializers.IntegerField(required=False)
    stock = StockSerializer(required=False)


def _answer(answer: callbacks.Answer) -> Response:
    headers = {REPLAYED_HEADER: "true"} if answer.replayed else {}
    return Response(answer.body, status=answer.status, headers=headers)


class CallbackApi(ApiMixin, generics.GenericAPIView):
    required_scope = Scope.WAREHOUSE_WRITE
    serializer_class = CallbackAnswerSerializer
    input_serializer: type[serializers.Serializer]

    def valid(self, request) -> dict:
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class ReleaseCallbackApi(CallbackApi):
    queryset = Release.objects.none()

    def post(self, request, release_id):
        data = self.valid(request)
        releases = Release.objects.select_related("warehouse")
        release = get_object_or_404(releases, release_id=release_id)
        return _answer(self.perform(release, data))

    def perform(self, release: Release, data: dict) -> callbacks.Answer:
        raise NotImplementedError


def _schema(summary: str, description: str, input_serializer, example: dict):
    return extend_schema(
        summary=summary,
        description=description,
        request=input_serializer,
        responses={200: CallbackAnswerSerializer},
        examples=[OpenApiExample("Example", value=example, request_only=True)],
    )


class ReleaseAcceptedApi(ReleaseCallbackApi):
    input_serializer = AcceptedInput

    @_schema(
        "The warehouse accepted a release",
        "The release becomes ACCEPTED; the order stays RELEASED. After the release was "
        "completed (callbacks out of order) it changes nothing.",
        AcceptedInput,
        {"event_id": "wms-000981"},
    )
    def post(self, request, release_id):
        return super().post(request, release_id)

    def perform(self, release, data):
        return callbacks.release_accepted(
            release=release, event_id=data["event_id"], actor=self.actor
        )


class ReleaseRejectedApi(ReleaseCallbackApi):
    input_serializer = RejectedInput

    @_schema(
        "The warehouse rejected a release",
        "The order goes back to DRAFT with reason `warehouse_rejected` and the text, and "
        "its reserved stock is released.",
        RejectedInput,
        {"event_id": "wms-000982", "reason": "RRU-01 damaged in stock, none to ship."},
    )
    def post(self, request, release_id):
        return super().post(request, release_id)

    def perform(self, release, data):
        return callbacks.release_rejected(
            release=release, event_id=data["event_id"], reason=data["reason"], actor=self.actor
        )


class ReleaseCompletedApi(ReleaseCallbackApi):
    input_serializer = CompletedInput

    @_schema(
        "The warehouse shipped a release",
        "The order is CLOSED and the shipped stock issued. A line shipped short keeps the "
        "rest outstanding on the order and its reserved stock becomes available again.",
        CompletedInput,
        {
            "event_id": "wms-000983",
            "lines": [{"item": "RRU-01", "shipped": 3}, {"item": "ANT-02", "shipped": 5}],
        },
    )
    def post(self, request, release_id):
        return super().post(request, release_id)

    def perform(self, release, data):
        lines = [callbacks.ShippedLine(line["item"], line["shipped"]) for line in data["lines"]]
        return callbacks.release_completed(
            release=release, event_id=data["event_id"], lines=lines, actor=self.actor
        )


class ReleaseReturnedApi(ReleaseCallbackApi):
    input_serializer = ReturnInput

    @_schema(
        "Material of a completed release came back",
        "Good stock goes back on hand, damaged stock is set aside (not available). The "
        "order becomes PARTIALLY_RETURNED or FULLY_RETURNED. Refused with 409 before the "
        "release is completed: send it again later.",
        ReturnInput,
        {
            "event_id": "wms-000990",
            "lines": [
                {"item": "RRU-01", "quantity": 1, "condition": "damaged", "reason": "Dented"}
            ],
        },
    )
    def post(self, request, release_id):
        return super().post(request, release_id)

    def perform(self, release, data):
        lines = [
            callbacks.ReturnedLine(
                line["item"], line["quantity"], line["condition"], line["reason"]
            )
            for line in data["lines"]
        ]
        return callbacks.release_returned(
            release=release, event_id=data["event_id"], lines=lines, actor=self.actor
        )


class StockCallbackApi(CallbackApi):
    input_serializer = StockInput
    kind: CallbackKind

    def post(self, request):
        data = self.valid(request)
        return _answer(
            callbacks.stock_reported(
                kind=self.kind,
                event_id=data["event_id"],
                warehouse_code=data["warehouse"],
                item_code=data["item"],
                quantity=data["quantity"],
                reason=data["reason"],
                actor=self.actor,
            )
        )


class StockReceiptApi(StockCallbackApi):
    kind = CallbackKind.STOCK_RECEIVED
    input_serializer = StockReceiptInput

    @_schema(
        "Goods arrived at a warehouse",
        "On hand grows by the (positive) quantity; the ledger records the reason.",
        StockReceiptInput,
        {
            "event_id": "wms-001200",
            "warehouse": "WH-NJ",
            "item": "RRU-01",
            "quantity": 12,
            "reason": "Delivery note DN-4471",
        },
    )
    def post(self, request):
        return super().post(request)


class StockAdjustmentApi(StockCallbackApi):
    kind = CallbackKind.STOCK_ADJUSTED

    @_schema(
        "Stock corrected after a count",
        "On hand changes by the quantity (negative removes); stock reserved for orders "
        "cannot be adjusted away (409).",
        StockInput,
        {
            "event_id": "wms-001201",
            "warehouse": "WH-NJ",
            "item": "JMP-02",
            "quantity": -3,
            "reason": "Cycle count 2026-11",
        },
    )
    def post(self, request):
        return super().post(request)
