"""The API's JSON parser: DRF's, made safe for hostile bodies.

- Nesting deeper than OMS_API_MAX_JSON_DEPTH is refused from the raw bytes, before
  the decoder recurses into it.
- Numbers that overflow to infinity (1e400) and the NaN/Infinity literals are refused:
  no column or jsonb value can hold them.
- Strings (and keys) holding NUL or a lone surrogate are refused with the path of the
  first one (`lines[2].item_code`). A view that takes a batch and reports each record
  by itself (design events, projects) sets `per_record_text = True`: the parser then
  leaves the check to it, so one bad record does not refuse its good neighbours.
"""

from __future__ import annotations

import json
import math

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ErrorDetail, ParseError, ValidationError

from oms import untrusted

BODY = "body"


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"Number {text[:40]} is out of range")
    return number


def _constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        raw = stream.read() if stream is not None else b""
        limit = settings.OMS_API_MAX_JSON_DEPTH
        if untrusted.json_too_deep(raw, limit):
            raise ParseError(
                f"The body nests arrays and objects deeper than {limit} levels.",
                code="too_deep",
            )
        encoding = parsers.get_encoding(parser_context)
        try:
            data = json.loads(raw.decode(encoding), parse_float=_finite, parse_constant=_constant)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParseError(f"JSON parse error - {exc}") from None
        view = parser_context.get("view")
        if not getattr(view, "per_record_text", False):
            refuse_bad_text(data)
        return data


def refuse_bad_text(data, prefix: str = "") -> None:
    """Raise a 400 validation error naming the first refused string."""
    found = untrusted.first_bad_text(data, prefix)
    if found:
        path, reason = found
        raise ValidationError(
            {path or BODY: [ErrorDetail(f"{path or 'The body'} {reason}.", code="invalid_text")]}
        )
