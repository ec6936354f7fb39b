"""Text and structures from outside that OMS refuses, in one place.

Two things in a string break storage and rendering rather than validation: the NUL
character (PostgreSQL text and jsonb cannot hold it) and a lone surrogate
(U+D800-U+DFFF, which JSON's \\uXXXX escapes can carry but UTF-8 cannot encode).
Every entry point (the API's JSON parser, query strings and form posts, batch
ingestion, imported files, stored headers) asks this module, and refuses with the
field's name. Nesting is bounded before any parser recurses into it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_BAD = re.compile("[\x00\ud800-\udfff]")
# A JSON string (with its escapes) or one bracket: strings are skipped so that
# brackets inside them do not count.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)
REPLACEMENT = "\ufffd"


def text_problem(value: str) -> str | None:
    """Why this text is refused, or None when it is acceptable."""
    found = _BAD.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain the NUL character"
    return "must be valid Unicode text (no lone surrogates or undecodable bytes)"


def is_acceptable(value: str) -> bool:
    return _BAD.search(value) is None


def printable(value: str) -> str:
    """The text with refused characters replaced by U+FFFD: safe to echo back in an
    error message, to log, and to store."""
    return _BAD.sub(REPLACEMENT, value)


def join_path(prefix: str, key: object) -> str:
    """`lines[2].item_code` style paths, as the API's field errors name fields."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    name = printable(str(key))
    return f"{prefix}.{name}" if prefix else name


@dataclass(frozen=True)
class Refusal:
    """One refused value of a decoded structure: where it is, and why."""

    path: str
    code: str  # invalid_text or out_of_range
    reason: str

    @property
    def message(self) -> str:
        return f"{self.path or 'The value'} {self.reason}."


class OutOfRange:
    """A JSON number that no column can hold (1e400, NaN, thousands of digits), kept in
    its place by json_loads so that the field holding it can be named."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"OutOfRange({self.text[:40]!r})"


def refusals(data: object, prefix: str = "") -> Iterator[Refusal]:
    """Every refused string (keys included) and number of a decoded JSON-like structure,
    in document order. Iterative, so depth alone cannot exhaust the stack."""
    stack: list[tuple[str, object]] = [(prefix, data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if reason := text_problem(value):
                yield Refusal(path, "invalid_text", reason)
        elif isinstance(value, OutOfRange):
            yield Refusal(path, "out_of_range", f"is a number out of range ({value.text[:40]})")
        elif isinstance(value, dict):
            children: list[tuple[str, object]] = []
            for key, child in value.items():
                child_path = join_path(path, key)
                if isinstance(key, str) and (reason := text_problem(key)):
                    reason = "is a field name that " + reason
                    yield Refusal(child_path, "invalid_text", reason)
                children.append((child_path, child))
            stack.extend(reversed(children))
        elif isinstance(value, list | tuple):
            stack.extend(reversed([(join_path(path, i), c) for i, c in enumerate(value)]))


def first_refusal(data: object, prefix: str = "") -> Refusal | None:
    return next(refusals(data, prefix), None)


def json_too_deep(raw: bytes, limit: int) -> bool:
    """Whether a JSON document nests arrays and objects deeper than `limit`, read from
    its bytes before any parser recurses. Brackets inside strings do not count."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # cannot be deeper than it has openers
        return False
    depth = 0
    for token in _JSON_TOKENS.finditer(raw):
        char = token.group()
        if char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


class TooDeep(ValueError):
    pass


# Python refuses to read integers longer than this (sys.get_int_max_str_digits()).
MAX_INT_DIGITS = 4300


def _float(text: str) -> float | OutOfRange:
    number = float(text)
    return number if math.isfinite(number) else OutOfRange(text)


def _int(text: str) -> int | OutOfRange:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else OutOfRange(text)


def json_loads(text: str | bytes, *, max_depth: int) -> Any:
    """Decode JSON from outside: nesting deeper than max_depth is refused (TooDeep, a
    ValueError as json's own errors are) before decoding. Numbers that no column can
    hold (1e400, NaN, Infinity, integers of thousands of digits) decode to OutOfRange
    markers, which refusals() reports with their field's path."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if json_too_deep(raw, max_depth):
        raise TooDeep(f"arrays and objects nest deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_float=_float, parse_int=_int, parse_constant=OutOfRange)
    except RecursionError:
        raise TooDeep("arrays and objects nest too deep") from None
