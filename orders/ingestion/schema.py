"""The design event schema, declared once as typed structs (msgspec).

An event written the plain way (text without surrounding spaces, NUL or lone
surrogates; whole numbers as numbers; choices as they are; a date as YYYY-MM-DD and a
time as RFC 3339 with its offset) is read by one msgspec conversion, and a batch of
such events by one conversion for all. Any other event is read field by field by the
API's DRF serializer, with the rules the API has always applied to design events (text
is trimmed and a number is taken as text, a whole number may come as text, a time
without an offset is in the server's time zone) and every problem reported with the
field's path (`items[3].quantity`), a code and a message in the API's words. The rules
between fields are checked once, on the struct, whichever way it was read. Both readings
give the same values for the events they both accept (tests/ingestion/test_event_schema.py).
"""

from __future__ import annotations

import datetime
import operator
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from django.utils import timezone
from msgspec import UNSET, Meta, UnsetType
from rest_framework import serializers

from oms.api.problems import field_errors
from oms.errors import Problem
from orders.choices import DesignEventType, OrderType, PlanType

MAX_LINES = 2000

# Text is taken as it is when it has no surrounding whitespace (str.strip's), no NUL
# and no lone surrogate; an event's texts are checked together (see _plain).
_NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")
_RFC3339 = (
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})\Z"
)

EventId = Annotated[str, Meta(min_length=1, max_length=100)]
Code = Annotated[str, Meta(min_length=1, max_length=40)]
Time = Annotated[str, Meta(pattern=_RFC3339)]


def _choices(values: list[str]) -> Any:
    return Literal[tuple(values)]


if TYPE_CHECKING:
    # Literals made from the choices at run time (for msgspec); to mypy, their text.
    EventType = str
    OrderTypeValue = str
    PlanTypeValue = str
else:
    EventType = _choices(DesignEventType.values)
    OrderTypeValue = _choices(OrderType.values)
    PlanTypeValue = _choices(PlanType.values)


class ItemLine(msgspec.Struct, frozen=True, gc=False):
    item: Code
    quantity: Annotated[int, Meta(ge=1, le=1_000_000)]


class KitLine(msgspec.Struct, frozen=True, gc=False):
    kit: Code
    quantity: Annotated[int, Meta(ge=1, le=10_000)]


class DesignEventBody(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """A design event as the engineering system sends it. Keys not named here are
    ignored; an optional key left out is UNSET (null is not a value of any field)."""

    event_id: EventId
    type: EventType
    project_id: Code
    order_type: OrderTypeValue
    # RFC 3339 with its offset; occurred() is the time in the server's time zone.
    occurred_at: Time
    need_by: datetime.date | UnsetType = UNSET
    national_priority: Annotated[int, Meta(ge=1, le=5)] | UnsetType = UNSET
    plan_type: PlanTypeValue | UnsetType = UNSET
    items: Annotated[list[ItemLine], Meta(max_length=MAX_LINES)] = []
    kits: Annotated[list[KitLine], Meta(max_length=MAX_LINES)] = []

    def occurred(self) -> datetime.datetime:
        """occurred_at in the server's time zone (the schema checked that it is one)."""
        zone = timezone.get_current_timezone()
        return datetime.datetime.fromisoformat(self.occurred_at).astimezone(zone)


_EVENTS = list[DesignEventBody]
# What a conversion raises for a value it refuses (a signalling NaN Decimal raises
# ValueError, not a ValidationError): the event is then read field by field.
_NOT_CONVERTED = (msgspec.ValidationError, ValueError, TypeError, ArithmeticError)
NOT_AN_OBJECT = Problem(code="invalid", message="An event is a JSON object.")
OUT_OF_RANGE = Problem(code="overflow", field="occurred_at", message="Datetime value out of range.")
Read = tuple[DesignEventBody | None, list[Problem]]


def schema_problems(payload: object) -> Read:
    """The event's values, or every problem of its shape and types."""
    return schema_problems_many([payload])[0]


def schema_problems_many(payloads: Sequence[object]) -> list[Read]:
    """schema_problems of each payload: plain events are read in one conversion for
    all, any other event by itself."""
    try:
        bodies = msgspec.convert(payloads, _EVENTS)
    except _NOT_CONVERTED:
        return [_one(payload) for payload in payloads]
    return [_finish(body, payload) for body, payload in zip(bodies, payloads, strict=True)]


def _one(payload: object) -> Read:
    if not isinstance(payload, dict):
        return None, [NOT_AN_OBJECT]
    try:
        body = msgspec.convert(payload, DesignEventBody)
    except _NOT_CONVERTED:
        return read_by_fields(payload)
    return _finish(body, payload)


def _finish(body: DesignEventBody, payload: object) -> Read:
    """A converted event whose texts and time are plain, checked across its fields;
    anything else read field by field."""
    if not isinstance(payload, dict) or not _plain(body):
        return read_by_fields(payload)
    return _checked(body)


def _checked(body: DesignEventBody) -> Read:
    problem = _design_problem(body)
    return (None, [problem]) if problem else (body, [])


_ITEM = operator.attrgetter("item")
_KIT = operator.attrgetter("kit")


def _plain(body: DesignEventBody) -> bool:
    """Whether the event's texts are plain (see _NUL_OR_SURROGATE) and occurred_at is a
    real time with a place in the server's time zone (the pattern lets through, say,
    month 13). The texts are checked with a few calls for all of them: a call per text
    would cost more than the conversion."""
    texts = [body.event_id, body.project_id, *map(_ITEM, body.items), *map(_KIT, body.kits)]
    if list(map(str.strip, texts)) != texts:
        return False
    joined = "".join(texts)
    if not (joined.isascii() and "\x00" not in joined) and _NUL_OR_SURROGATE.search(joined):
        return False
    try:
        moment = datetime.datetime.fromisoformat(body.occurred_at)
        # Only a time within a day of the calendar's ends can overflow in a time zone.
        if not 1 < moment.year < 9999:
            moment.astimezone(timezone.get_current_timezone())
    except (ValueError, OverflowError):
        return False
    return True


def _design_problem(body: DesignEventBody) -> Problem | None:
    """The rules between fields, checked once every field is valid."""
    if body.type in (DesignEventType.DESIGN_APPROVED, DesignEventType.BOM_REVISED):
        if not body.items and not body.kits:
            return Problem(code="required", field="items", message="A design lists items or kits.")
        if body.need_by is UNSET:
            return Problem(code="required", field="need_by", message="A design has a need-by date.")
    if (
        body.type == DesignEventType.SCHEDULE_UPDATED
        and body.need_by is UNSET
        and body.national_priority is UNSET
    ):
        return Problem(
            code="required", message="A schedule update changes need_by or national_priority."
        )
    return None


# --- Field by field ---------------------------------------------------------------------
# An event that is not plain is read by the API's DRF serializer: its lenient rules (text
# trimmed, a number as text, a whole number as "3", a time without an offset in the
# server's time zone) and its problems in the API's words, field by field
# (`items[3].quantity`). The struct above and this serializer say the same limits; a
# property test checks that they take and refuse the same events.


class ItemQuantity(serializers.Serializer):
    item = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class KitQuantity(serializers.Serializer):
    kit = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class DesignEventSerializer(serializers.Serializer):
    """A design event as the engineering system sends it, read the API's way."""

    event_id = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=DesignEventType.choices)
    project_id = serializers.CharField(max_length=40)
    order_type = serializers.ChoiceField(choices=OrderType.choices)
    occurred_at = serializers.DateTimeField()
    need_by = serializers.DateField(required=False)
    national_priority = serializers.IntegerField(min_value=1, max_value=5, required=False)
    plan_type = serializers.ChoiceField(choices=PlanType.choices, required=False)
    # With many=True a serializer takes max_length (for its ListSerializer); the stubs
    # do not know it.
    items = ItemQuantity(many=True, required=False, max_length=MAX_LINES)  # type: ignore[call-arg]
    kits = KitQuantity(many=True, required=False, max_length=MAX_LINES)  # type: ignore[call-arg]


def read_by_fields(payload: object) -> Read:
    """The event read by the API's serializer: its values, or every problem of its shape
    and types, then the rules between fields."""
    if not isinstance(payload, dict):
        return None, [NOT_AN_OBJECT]
    serializer = DesignEventSerializer(data=payload)
    if not serializer.is_valid():
        return None, [
            Problem(code=e["code"], message=e["message"], field=e["field"])
            for e in field_errors(serializer.errors)
        ]
    values = dict(serializer.validated_data)
    try:
        moment = values.pop("occurred_at").astimezone(datetime.UTC)
    except OverflowError:
        return None, [OUT_OF_RANGE]
    items = [ItemLine(**line) for line in values.pop("items", [])]
    kits = [KitLine(**line) for line in values.pop("kits", [])]
    occurred_at = moment.isoformat().replace("+00:00", "Z")
    body = DesignEventBody(**values, occurred_at=occurred_at, items=items, kits=kits)
    return _checked(body)
