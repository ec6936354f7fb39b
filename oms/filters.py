"""Filter building blocks shared by the apps' FilterSets.

Every FilterSet derives from StrictFilterSet: a value the OpenAPI schema would not
allow is refused (the API answers 400 naming the parameter), never read as "no filter".
Booleans are `true` or `false`, date-times are RFC 3339 with an offset, choices are
one of the choices. The back office shares these FilterSets; there an invalid value is
shown as the field's error and its filter is left out."""

from __future__ import annotations

import datetime
import re
from collections import OrderedDict
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ImproperlyConfigured

# RFC 3339 date-time (the OpenAPI `date-time` format): date, T, time, offset or Z.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_EARLIEST = datetime.datetime.min.replace(tzinfo=datetime.UTC)
_LATEST = datetime.datetime.max.replace(tzinfo=datetime.UTC)


def parse_rfc3339(text: str) -> datetime.datetime | None:
    """An RFC 3339 date-time in UTC, or None if the text is not one. Any offset up to
    ±23:59 is understood; a time that in UTC falls outside the years 1 to 9999 is
    taken as the earliest or latest representable one (as a lower bound, the same
    rows), and a leap second as the second before it."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zulu, sign, offset_hours, offset_minutes = match.groups()[6:]
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if zulu:
        offset = datetime.timedelta(0)
    else:
        if int(offset_hours) > 23 or int(offset_minutes) > 59:
            return None
        offset = datetime.timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
        offset = -offset if sign == "-" else offset
    try:
        local = datetime.datetime(
            year, month, day, hour, minute, min(second, 59), micro, datetime.UTC
        )
    except ValueError:
        return None
    if second > 60:
        return None
    try:
        return local - offset
    except OverflowError:
        return _EARLIEST if offset > datetime.timedelta(0) else _LATEST


class Rfc3339DateTimeField(forms.Field):
    """An RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z, turned into UTC."""

    def to_python(self, value: Any) -> datetime.datetime | None:
        if value in self.empty_values:
            return None
        parsed = parse_rfc3339(value) if isinstance(value, str) else None
        if parsed is None:
            raise forms.ValidationError(
                "Give an RFC 3339 date-time with an offset, e.g. 2026-11-01T00:00:00Z.",
                code="invalid_datetime",
            )
        return parsed


class IsoDateField(forms.DateField):
    """A date written YYYY-MM-DD (the OpenAPI `date` format, and what an
    `<input type="date">` sends); any other spelling is an error."""

    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": "Give a date as YYYY-MM-DD, e.g. 2026-11-01."}
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class IsoDateFilter(django_filters.DateFilter):
    field_class = IsoDateField


class YesNoSelect(forms.Select):
    """Any / Yes / No in the back office; the query value is passed on as sent."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, choices=[("", "Any"), ("true", "Yes"), ("false", "No")])

    def format_value(self, value: Any) -> list[str]:
        return [{True: "true", False: "false"}.get(value, value if isinstance(value, str) else "")]


class YesNoField(forms.Field):
    """`true` or `false`; empty means no filter; anything else is an error."""

    widget = YesNoSelect

    def to_python(self, value: Any) -> bool | None:
        if value in self.empty_values:
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("Give true or false.", code="invalid_boolean")


class YesNoFilter(django_filters.BooleanFilter):
    # django-filter takes any form field here; its stubs take only the default one.
    field_class = YesNoField  # type: ignore[assignment]


class SinceFilter(django_filters.IsoDateTimeFilter):
    """Rows changed at or after an RFC 3339 date-time."""

    field_class = Rfc3339DateTimeField  # type: ignore[assignment]  # as in YesNoFilter

    def __init__(self, field_name: str = "updated_at", **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z.")
        super().__init__(field_name=field_name, lookup_expr="gte", **kwargs)


# Filters whose fields read invalid input as "no filter"; StrictFilterSet refuses them.
_LENIENT = {
    django_filters.BooleanFilter: YesNoFilter,
    django_filters.IsoDateTimeFilter: SinceFilter,
    django_filters.DateTimeFilter: SinceFilter,
}


class StrictFilterSet(django_filters.FilterSet):
    """The base of every FilterSet: a filter whose field would read an invalid value as
    "no filter" is a configuration error, so no API list ever ignores a bad parameter."""

    @classmethod
    def get_filters(cls) -> OrderedDict[str, django_filters.Filter]:
        filters = super().get_filters()
        for name, declared in filters.items():
            for lenient, strict in _LENIENT.items():
                if isinstance(declared, lenient) and not isinstance(declared, strict):
                    raise ImproperlyConfigured(
                        f"{cls.__name__}.{name}: use oms.filters.{strict.__name__}, "
                        f"not {type(declared).__name__}, so invalid values are refused."
                    )
        return filters
