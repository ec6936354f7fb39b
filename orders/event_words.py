"""A design event as a coordinator reads it: its fields in the order the engineering
system documents them, and each problem with the line and field it concerns ("Item
line 2, item code"), not the payload's path (items[1].item)."""

from __future__ import annotations

import re

# The payload's top-level fields, as a coordinator calls them.
FIELDS = {
    "event_id": "Event id",
    "type": "Event type",
    "project_id": "Project",
    "order_type": "Order type",
    "occurred_at": "Occurred at",
    "need_by": "Need-by date",
    "national_priority": "National priority",
    "plan_type": "Plan type",
    "items": "Items",
    "kits": "Kits",
}
# The fields of one line of a list, by list.
LINES = {
    "items": ("Item line", {"item": "item code", "quantity": "quantity"}),
    "kits": ("Kit line", {"kit": "kit code", "quantity": "quantity"}),
}
LINE_PATH = re.compile(r"(?P<list>[a-z_]+)\[(?P<index>[0-9]{1,6})\](?:\.(?P<field>[a-z_]+))?")


def field_words(path: str) -> str:
    """The words for a field path; a path it does not know is given as it is."""
    path = (path or "").strip()
    if not path:
        return ""
    if path in FIELDS:
        return FIELDS[path]
    line = LINE_PATH.fullmatch(path)
    if line and line["list"] in LINES:
        name, fields = LINES[line["list"]]
        words = f"{name} {int(line['index']) + 1}"
        if line["field"]:
            words += f", {fields.get(line['field'], line['field'].replace('_', ' '))}"
        return words
    return path


def problem_sentence(problem: dict) -> str:
    """One recorded problem as "<field in words>: <message>"."""
    if not isinstance(problem, dict):
        return str(problem)
    words = field_words(str(problem.get("field") or ""))
    message = str(problem.get("message") or "")
    return f"{words}: {message}" if words else message


def in_field_order(payload):
    """The payload with its documented fields first, in the order of FIELDS (the
    database keeps a JSON object's keys in its own order), then any others."""
    if not isinstance(payload, dict):
        return payload
    known = {key: payload[key] for key in FIELDS if key in payload}
    return known | {key: value for key, value in payload.items() if key not in known}
