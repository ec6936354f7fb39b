"""The design event rules as the API's DRF serializer wrote them before the schema was
declared with msgspec (orders.ingestion.schema): kept here only as the reference the
schema's tests compare against, value for value and problem for problem."""

import msgspec
from rest_framework import serializers

from oms.api.problems import field_errors
from oms.errors import Problem
from orders.choices import DesignEventType, OrderType, PlanType
from orders.ingestion.schema import MAX_LINES


class ItemQuantity(serializers.Serializer):
    item = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class KitQuantity(serializers.Serializer):
    kit = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class DesignEventSchema(serializers.Serializer):
    event_id = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=DesignEventType.choices)
    project_id = serializers.CharField(max_length=40)
    order_type = serializers.ChoiceField(choices=OrderType.choices)
    occurred_at = serializers.DateTimeField()
    need_by = serializers.DateField(required=False)
    national_priority = serializers.IntegerField(min_value=1, max_value=5, required=False)
    plan_type = serializers.ChoiceField(choices=PlanType.choices, required=False)
    items = ItemQuantity(many=True, required=False, max_length=MAX_LINES)
    kits = KitQuantity(many=True, required=False, max_length=MAX_LINES)

    def validate(self, data):
        kind = data["type"]
        if kind in (DesignEventType.DESIGN_APPROVED, DesignEventType.BOM_REVISED):
            if not data.get("items") and not data.get("kits"):
                raise serializers.ValidationError(
                    {"items": ["A design lists items or kits."]}, code="required"
                )
            if "need_by" not in data:
                raise serializers.ValidationError(
                    {"need_by": ["A design has a need-by date."]}, code="required"
                )
        if kind == DesignEventType.SCHEDULE_UPDATED and not (
            {"need_by", "national_priority"} & data.keys()
        ):
            raise serializers.ValidationError(
                "A schedule update changes need_by or national_priority.", code="required"
            )
        return data


def reference(payload) -> tuple[dict | None, list[Problem]]:
    """What the DRF schema made of a payload: its values, or its problems."""
    if not isinstance(payload, dict):
        return None, [Problem(code="invalid", message="An event is a JSON object.")]
    schema = DesignEventSchema(data=payload)
    if schema.is_valid():
        return dict(schema.validated_data), []
    return None, [
        Problem(code=e["code"], message=e["message"], field=e["field"])
        for e in field_errors(schema.errors)
    ]


def values_of(body) -> dict:
    """A DesignEventBody as the DRF schema's values (lines as dicts, the time in the
    server's time zone, optional fields left out when not given, no empty line lists)."""
    values = {
        "event_id": body.event_id,
        "type": body.type,
        "project_id": body.project_id,
        "order_type": body.order_type,
        "occurred_at": body.occurred(),
    }
    for name in ("need_by", "national_priority", "plan_type"):
        value = getattr(body, name)
        if value is not msgspec.UNSET:
            values[name] = value
    if body.items:
        values["items"] = [{"item": w.item, "quantity": w.quantity} for w in body.items]
    if body.kits:
        values["kits"] = [{"kit": w.kit, "quantity": w.quantity} for w in body.kits]
    return values


def comparable(values: dict | None) -> dict | None:
    """The reference's values with empty line lists left out, lines as plain dicts."""
    if values is None:
        return None
    out = {k: v for k, v in values.items() if not (k in ("items", "kits") and not v)}
    for key in ("items", "kits"):
        if key in out:
            out[key] = [dict(line) for line in out[key]]
    return out
