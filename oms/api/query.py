"""Query parameter values read strictly: what the OpenAPI schema declares for a query
parameter is exactly what the server takes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.utils import html

_DIGITS = re.compile(r"0*[0-9]{1,19}")


def whole_number(text: str, *, least: int, most: int) -> int | None:
    """A whole number written in decimal digits within [least, most], else None. Signs,
    spaces, decimal points and exponents are refused: the schema says integer."""
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if least <= value <= most else None


class WholeNumberField(serializers.IntegerField):
    """An integer query parameter: decimal digits only, within its bounds; sent empty it
    is refused rather than read as absent."""

    default_error_messages = {"invalid": "Give a whole number."}

    def get_value(self, dictionary: Mapping[str, Any]) -> Any:
        name = self.field_name  # None only before the field is bound
        if html.is_html_input(dictionary) and name is not None and dictionary.get(name) == "":
            return ""
        return super().get_value(dictionary)

    def to_internal_value(self, data: object) -> int:
        least = self.min_value if self.min_value is not None else 0
        most = self.max_value if self.max_value is not None else 2**63 - 1
        value = whole_number(data, least=least, most=most) if isinstance(data, str) else None
        if value is None:
            raise serializers.ValidationError(
                f"Give a whole number from {least} to {most}.", code="invalid"
            )
        return value
