"""The API's JSON parser: DRF's, made safe for hostile bodies.

- Nesting deeper than OMS_API_MAX_JSON_DEPTH is refused from the raw bytes, before
  the decoder recurses into it.
- Strings (and keys) holding NUL or a lone surrogate, and numbers that no column or
  jsonb value can hold (1e400, NaN, Infinity, thousands of digits), are refused with
  the path of the first one (`lines[2].item_code`). A view that takes a batch and
  reports each record by itself (design events, projects) sets `per_record_text =
  True`: the parser then leaves the check to it, so one bad record does not refuse its
  good neighbours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ErrorDetail, ParseError, ValidationError

from oms import untrusted

BODY = "body"


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        parser_context = parser_context or {}
        raw = stream.read() if stream is not None else b""
        limit = settings.OMS_API_MAX_JSON_DEPTH
        try:
            # DRF's parsers module has get_encoding; its stubs do not.
            encoding = parsers.get_encoding(parser_context)  # type: ignore[attr-defined]
            data = untrusted.json_loads(raw.decode(encoding), max_depth=limit)
        except untrusted.TooDeep:
            raise ParseError(
                f"The body nests arrays and objects deeper than {limit} levels.",
                code="too_deep",
            ) from None
        except ValueError as exc:  # UnicodeDecodeError is a ValueError too
            raise ParseError(f"JSON parse error - {exc}") from None
        view = parser_context.get("view")
        if not getattr(view, "per_record_text", False):
            refuse(data)
        return data


def refuse(data: object) -> None:
    """Raise a 400 validation error naming the first refused value."""
    if found := untrusted.first_refusal(data):
        raise ValidationError({found.path or BODY: [ErrorDetail(found.message, code=found.code)]})
