"""The reference the plain reading of design events (one msgspec conversion) is compared
with, value for value and problem for problem: the field-by-field reading by the API's
DRF serializer (orders.ingestion.schema.read_by_fields)."""

import msgspec

from oms.errors import Problem
from orders.ingestion.schema import read_by_fields


def reference(payload) -> tuple[dict | None, list[Problem]]:
    """What the serializer makes of a payload: its values, or its problems."""
    body, problems = read_by_fields(payload)
    return (values_of(body) if body is not None else None), problems


def values_of(body) -> dict:
    """A DesignEventBody as plain values (lines as dicts, the time in the server's time
    zone, optional fields left out when not given, no empty line lists)."""
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
