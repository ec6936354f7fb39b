"""The design event schema, declared once as typed structs (msgspec).

An event written the plain way (text without surrounding spaces, NUL or lone
surrogates; whole numbers as numbers; choices as they are; a date as YYYY-MM-DD and a
time as RFC 3339 with its offset) is read by one msgspec conversion, and a batch of
such events by one conversion for all. Any other event is read field by field with the
rules the API has always applied to design events: text is trimmed and a number is
taken as text, a whole number may come as text ("3", "3.0"), a time without an offset
is in the server's time zone, and every problem is reported with the field's path
(`items[3].quantity`), a code and a message in the API's words. Both readings give the
same values for the events they both accept (tests/ingestion/test_event_schema.py).
"""

from __future__ import annotations

import datetime
import operator
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

import msgspec
from django.utils import dateparse, timezone
from msgspec import UNSET, Meta, UnsetType

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
Read = tuple[DesignEventBody | None, list[Problem]]


def schema_problems(payload) -> Read:
    """The event's values, or every problem of its shape and types."""
    return schema_problems_many([payload])[0]


def schema_problems_many(payloads: list) -> list[Read]:
    """schema_problems of each payload: plain events are read in one conversion for
    all, any other event by itself."""
    try:
        bodies = msgspec.convert(payloads, _EVENTS)
    except _NOT_CONVERTED:
        return [_one(payload) for payload in payloads]
    return [_finish(body, payload) for body, payload in zip(bodies, payloads, strict=True)]


def _one(payload) -> Read:
    if not isinstance(payload, dict):
        return None, [NOT_AN_OBJECT]
    try:
        body = msgspec.convert(payload, DesignEventBody)
    except _NOT_CONVERTED:
        return _one_by_fields(payload)
    return _finish(body, payload)


def _finish(body: DesignEventBody, payload) -> Read:
    """A converted event whose texts and time are plain, checked across its fields;
    anything else read field by field."""
    if not isinstance(payload, dict) or not _plain(body):
        return _one_by_fields(payload)
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


# --- Field by field -----------------------------------------------------------------------
# The reading of an event that is not plain: the same values, and each field's problems
# in the API's words (DRF's fields, whose rules the API applies to design events).

REQUIRED = "This field is required."
NULL = "This field may not be null."


class _Invalid(Exception):
    def __init__(self, *problems: tuple[str, str]):
        self.problems = problems  # (code, message)


Reader = Callable[[Any], Any]


def _text(max_length: int) -> Reader:
    def read(value):
        if value == "" or (isinstance(value, str) and not value.strip()):
            raise _Invalid(("blank", "This field may not be blank."))
        if value is None:
            raise _Invalid(("null", NULL))
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _Invalid(("invalid", "Not a valid string."))
        try:
            text = str(value).strip()
        except ValueError:  # an integer too long to write out
            raise _Invalid(("invalid", "Not a valid string.")) from None
        if not text:
            raise _Invalid(("blank", "This field may not be blank."))
        found = []
        if len(text) > max_length:
            message = f"Ensure this field has no more than {max_length} characters."
            found.append(("max_length", message))
        if "\x00" in text:
            found.append(("null_characters_not_allowed", "Null characters are not allowed."))
        for char in text:
            if 0xD800 <= ord(char) <= 0xDFFF:
                message = f"Surrogate characters are not allowed: U+{ord(char):X}."
                found.append(("surrogate_characters_not_allowed", message))
                break
        if found:
            raise _Invalid(*found)
        return text

    return read


_DECIMAL_ZEROS = re.compile(r"\.0*\s*$")


def _whole(low: int, high: int) -> Reader:
    def read(value):
        if value is None:
            raise _Invalid(("null", NULL))
        if isinstance(value, str) and len(value) > 1000:
            raise _Invalid(("max_string_length", "String value too large."))
        try:
            number = int(_DECIMAL_ZEROS.sub("", str(value)))
        except (ValueError, TypeError):
            raise _Invalid(("invalid", "A valid integer is required.")) from None
        if number > high:
            raise _Invalid(("max_value", f"Ensure this value is less than or equal to {high}."))
        if number < low:
            raise _Invalid(("min_value", f"Ensure this value is greater than or equal to {low}."))
        return number

    return read


def _choice(values: list[str]) -> Reader:
    known = frozenset(values)

    def read(value):
        if value is None:
            raise _Invalid(("null", NULL))
        try:
            text = str(value)
        except ValueError:  # an integer too long to write out
            raise _Invalid(("invalid_choice", "This is not a valid choice.")) from None
        if text not in known:
            raise _Invalid(("invalid_choice", f'"{text}" is not a valid choice.'))
        return text

    return read


def _date(value):
    if value is None:
        raise _Invalid(("null", NULL))
    if isinstance(value, datetime.datetime):
        raise _Invalid(("datetime", "Expected a date but got a datetime."))
    if isinstance(value, datetime.date):
        return value
    try:
        parsed = dateparse.parse_date(value)
    except (ValueError, TypeError):
        parsed = None
    if parsed is None:
        raise _Invalid(
            ("invalid", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")
        )
    return parsed


_TIME_FORMAT = "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]"


def _time(value):
    """The time as RFC 3339 text in UTC (DesignEventBody.occurred() gives it back in
    the server's time zone); a time without an offset is in the server's time zone."""
    if value is None:
        raise _Invalid(("null", NULL))
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        raise _Invalid(("date", "Expected a datetime but got a date."))
    parsed = value if isinstance(value, datetime.datetime) else None
    if parsed is None:
        try:
            parsed = dateparse.parse_datetime(value)
        except (ValueError, TypeError):
            parsed = None
    if parsed is None:
        message = f"Datetime has wrong format. Use one of these formats instead: {_TIME_FORMAT}."
        raise _Invalid(("invalid", message))
    zone = timezone.get_current_timezone()
    if timezone.is_aware(parsed):
        try:
            parsed = parsed.astimezone(zone)
        except OverflowError:
            raise _Invalid(("overflow", "Datetime value out of range.")) from None
    try:
        if not timezone.is_aware(parsed):
            parsed = timezone.make_aware(parsed, zone)
            if _ambiguous(parsed):
                message = f'Invalid datetime for the timezone "{zone}".'
                raise _Invalid(("make_aware", message))
        return parsed.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    except OverflowError:
        raise _Invalid(("overflow", "Datetime value out of range.")) from None


def _ambiguous(moment: datetime.datetime) -> bool:
    """Whether a local time happens twice (the hour a clock goes back)."""
    return moment.astimezone(datetime.UTC) == moment and (
        moment.replace(fold=not moment.fold).utcoffset() != moment.utcoffset()
    )


def _lines(key: str, struct: type, limit: int) -> Callable[[Any, str], tuple[Any, list[Problem]]]:
    code = _text(40)
    quantity = _whole(1, limit)
    fields = ((key, code), ("quantity", quantity))

    def read(value, path):
        if value is None:
            return None, [Problem(code="null", field=path, message=NULL)]
        if not isinstance(value, list):
            message = f'Expected a list of items but got type "{type(value).__name__}".'
            return None, [Problem(code="not_a_list", field=path, message=message)]
        if len(value) > MAX_LINES:
            message = f"Ensure this field has no more than {MAX_LINES} elements."
            return None, [Problem(code="max_length", field=path, message=message)]
        lines, problems = [], []
        for index, line in enumerate(value):
            at = f"{path}[{index}]"
            if line is None:
                problems.append(Problem(code="null", field=at, message=NULL))
                continue
            if not isinstance(line, Mapping):
                message = f"Invalid data. Expected a dictionary, but got {type(line).__name__}."
                problems.append(Problem(code="invalid", field=at, message=message))
                continue
            read_line, found = _fields(line, fields, at, required={key, "quantity"})
            problems += found
            if not found:
                lines.append(struct(**read_line))
        return lines, problems

    return read


_FIELDS: tuple[tuple[str, Reader], ...] = (
    ("event_id", _text(100)),
    ("type", _choice(DesignEventType.values)),
    ("project_id", _text(40)),
    ("order_type", _choice(OrderType.values)),
    ("occurred_at", _time),
    ("need_by", _date),
    ("national_priority", _whole(1, 5)),
    ("plan_type", _choice(PlanType.values)),
)
_REQUIRED = frozenset({"event_id", "type", "project_id", "order_type", "occurred_at"})
_LINES = (("items", _lines("item", ItemLine, 1_000_000)), ("kits", _lines("kit", KitLine, 10_000)))


def _fields(data: Mapping, fields, prefix: str, *, required) -> tuple[dict, list[Problem]]:
    values: dict = {}
    problems: list[Problem] = []
    for name, read in fields:
        path = f"{prefix}.{name}" if prefix else name
        if name not in data:
            if name in required:
                problems.append(Problem(code="required", field=path, message=REQUIRED))
            continue
        try:
            values[name] = read(data[name])
        except _Invalid as exc:
            problems += [Problem(code=c, field=path, message=m) for c, m in exc.problems]
    return values, problems


def _one_by_fields(payload) -> Read:
    if not isinstance(payload, dict):
        return None, [NOT_AN_OBJECT]
    values, problems = _fields(payload, _FIELDS, "", required=_REQUIRED)
    for name, read in _LINES:
        if name in payload:
            lines, found = read(payload[name], name)
            problems += found
            values[name] = lines
    if problems:
        return None, problems
    return _checked(DesignEventBody(**values))
