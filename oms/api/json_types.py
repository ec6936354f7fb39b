"""Serializer fields that take only the JSON type the OpenAPI schema declares.

DRF's fields coerce: an IntegerField takes "5", a BooleanField takes "yes" or 1, a
CharField takes 5 or true. The schema says integer, boolean, string, so a request
sending another type is invalid and these fields answer 400 naming the field. An
integer may be written 5.0 (JSON Schema counts it an integer); 5.5 is refused."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

# Spaces, tabs and line breaks: what the schema's NOT_BLANK pattern and the trimming
# agree on (JSON Schema's \s and Python's str.strip() differ on other characters).
_SPACE = " \t\r\n"
NOT_BLANK = r"[^ \t\r\n]"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class StrictCharField(serializers.CharField):
    """A JSON string. Spaces, tabs and line breaks around it are trimmed; unless blank is
    allowed it must hold something else (declared as a pattern)."""

    default_error_messages = {"invalid": "Give a string.", "blank": "Give more than spaces."}

    def __init__(self, **kwargs: Any) -> None:
        self.trim = kwargs.pop("trim_whitespace", True)
        super().__init__(trim_whitespace=False, **kwargs)
        if not self.allow_blank:
            self.validators.append(
                RegexValidator(NOT_BLANK, message=self.error_messages["blank"], code="blank")
            )

    def get_value(self, dictionary: Mapping[str, Any]) -> Any:
        # A query parameter sent empty (?type=) is a value to check, not an absent one.
        name = self.field_name  # None only before the field is bound
        if html.is_html_input(dictionary) and name is not None and dictionary.get(name) == "":
            return ""
        return super().get_value(dictionary)

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)

    def run_validation(self, data: Any = empty) -> Any:
        value = super().run_validation(data)
        return value.strip(_SPACE) if self.trim and isinstance(value, str) else value


class StrictRegexField(serializers.RegexField):
    default_error_messages = {"not_a_string": "Give a string."}

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    """One of the choices, as the very value (a string choice is not matched by 5)."""

    def to_internal_value(self, data: object) -> str:
        if isinstance(data, bool) or not isinstance(data, str | int) or data not in self.choices:
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "Give an integer."}

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictNumberField(serializers.FloatField):
    """A JSON number (an integer or not), never a string of one."""

    default_error_messages = {"invalid": "Give a number."}

    def to_internal_value(self, data: object) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Give true or false."}

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictDateField(serializers.DateField):
    """A full date, YYYY-MM-DD (the schema's `date` format), nothing looser."""

    def to_internal_value(self, value: object) -> datetime.date:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.fail("invalid", format="YYYY-MM-DD")
