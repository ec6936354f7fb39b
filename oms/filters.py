"""Filter building blocks shared by the apps' FilterSets."""

import datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

MAX_OFFSET = datetime.timedelta(hours=14)  # the widest real UTC offset


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned into UTC; offsets no real place uses are refused."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        if offset is not None:
            if abs(offset) > MAX_OFFSET:
                raise forms.ValidationError(
                    "The UTC offset must be within ±14:00.", code="invalid_offset"
                )
            parsed = parsed.astimezone(datetime.UTC)
        return parsed


class AnyYesNo(forms.NullBooleanSelect):
    """A yes/no filter's select in the back office: "Any" rather than "Unknown"."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", "Any"), ("true", "Yes"), ("false", "No")]


class SinceFilter(django_filters.IsoDateTimeFilter):
    """Rows changed at or after an ISO 8601 date-time."""

    field_class = UtcIsoDateTimeField

    def __init__(self, field_name="updated_at", **kwargs):
        kwargs.setdefault("help_text", "ISO 8601 date-time, e.g. 2026-11-01T00:00:00Z.")
        super().__init__(field_name=field_name, lookup_expr="gte", **kwargs)
