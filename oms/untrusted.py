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


def join_path(prefix: str, key) -> str:
    """`lines[2].item_code` style paths, as the API's field errors name fields."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    key = printable(str(key))
    return f"{prefix}.{key}" if prefix else key


def bad_text(data, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(path, reason) of every refused string in a decoded JSON-like structure, keys
    included, in document order. Iterative, so depth alone cannot exhaust the stack."""
    stack = [(prefix, data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            reason = text_problem(value)
            if reason:
                yield path, reason
        elif isinstance(value, dict):
            children = []
            for key, child in value.items():
                child_path = join_path(path, key)
                if isinstance(key, str) and (reason := text_problem(key)):
                    yield child_path, "names a field with " + reason.removeprefix("must ")
                children.append((child_path, child))
            stack.extend(reversed(children))
        elif isinstance(value, list | tuple):
            stack.extend(reversed([(join_path(path, i), c) for i, c in enumerate(value)]))


def first_bad_text(data, prefix: str = "") -> tuple[str, str] | None:
    return next(bad_text(data, prefix), None)


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


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is out of range")
    return number


def _constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def json_loads(text: str | bytes, *, max_depth: int):
    """Decode JSON from outside: nesting deeper than max_depth is refused (TooDeep)
    before decoding; numbers must be finite (1e400, NaN and Infinity are refused).
    Every refusal is a ValueError, as json's own are."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if json_too_deep(raw, max_depth):
        raise TooDeep(f"arrays and objects nest deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_constant)
    except RecursionError:
        raise TooDeep("arrays and objects nest too deep") from None
