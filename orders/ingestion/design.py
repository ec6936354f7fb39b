"""What a design event says: its schema, and what it refers to (project, items, kits)."""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch
from django.utils import dateparse, timezone
from rest_framework import serializers

from catalog.models import Item, Kit, KitVersion
from oms.actors import Actor
from oms.api.problems import field_errors
from oms.errors import Problem
from orders import services
from orders.choices import (
    DesignEventType,
    LineSource,
    OrderType,
    PlanType,
    ProjectStatus,
)
from orders.models import Project

ENGINEERING = Actor.system("engineering-system")


MAX_LINES = 2000


class ItemQuantity(serializers.Serializer):
    item = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class KitQuantity(serializers.Serializer):
    kit = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class DesignEventSchema(serializers.Serializer):
    """A design event as the engineering system sends it."""

    event_id = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=DesignEventType.choices)
    project_id = serializers.CharField(max_length=40)
    order_type = serializers.ChoiceField(choices=OrderType.choices)
    occurred_at = serializers.DateTimeField()
    need_by = serializers.DateField(required=False)
    national_priority = serializers.IntegerField(min_value=1, max_value=5, required=False)
    plan_type = serializers.ChoiceField(choices=PlanType.choices, required=False)
    items = ItemQuantity(many=True, required=False, max_length=MAX_LINES)
    kits = KitQuantity(many=True, required=False, max_length=MAX_LINES)

    def validate(self, data):
        kind = data["type"]
        if kind in (DesignEventType.DESIGN_APPROVED, DesignEventType.BOM_REVISED):
            if not data.get("items") and not data.get("kits"):
                raise serializers.ValidationError(
                    {"items": ["A design lists items or kits."]}, code="required"
                )
            if "need_by" not in data:
                raise serializers.ValidationError(
                    {"need_by": ["A design has a need-by date."]}, code="required"
                )
        if kind == DesignEventType.SCHEDULE_UPDATED and not (
            {"need_by", "national_priority"} & data.keys()
        ):
            raise serializers.ValidationError(
                "A schedule update changes need_by or national_priority.", code="required"
            )
        return data


class CheckedLines(serializers.ListField):
    """A list of lines that _plain_lines already found valid: the list's own checks
    (a list, at most MAX_LINES long) without a call per line."""

    def run_child_validation(self, data):
        return list(data)


class PlainLinesSchema(DesignEventSchema):
    """The same schema for a payload whose lines were already found plain and valid
    (see _plain_lines): the per-line checks of DRF are the costly part of validating
    a large bill of material, and they would find nothing."""

    items = CheckedLines(required=False, max_length=MAX_LINES)
    kits = CheckedLines(required=False, max_length=MAX_LINES)


LINE_LIMITS = {"item": (40, 1_000_000), "kit": (40, 10_000)}


def _plain_lines(payload: dict) -> bool:
    """Whether every item and kit line is exactly {code: text, quantity: whole number}
    within the limits, so that DRF's per-line validation could only accept it."""
    for key, name in (("items", "item"), ("kits", "kit")):
        lines = payload.get(key, [])
        if not isinstance(lines, list):
            return False
        max_length, max_quantity = LINE_LIMITS[name]
        for line in lines:
            if not isinstance(line, dict) or line.keys() != {name, "quantity"}:
                return False
            code, quantity = line[name], line["quantity"]
            if not (isinstance(code, str) and code.strip() == code and 0 < len(code) <= max_length):
                return False
            if "\x00" in code or type(quantity) is not int or not 1 <= quantity <= max_quantity:
                return False
    return True


# One instance of each schema, shared: run_validation keeps no state on the instance
# (it is what is_valid() calls), and building a serializer's fields for every event
# would cost more than validating it.
SCHEMAS = {True: PlainLinesSchema(), False: DesignEventSchema()}


def schema_problems(payload) -> tuple[dict | None, list[Problem]]:
    """The payload's values, or the problems of its shape and types."""
    if not isinstance(payload, dict):
        return None, [Problem(code="invalid", message="An event is a JSON object.")]
    plain_lines = _plain_lines(payload)
    values = _plain_values(payload) if plain_lines else None
    if values is not None:
        return values, []
    try:
        return SCHEMAS[plain_lines].run_validation(payload), []
    except serializers.ValidationError as exc:
        errors = exc.detail
    return None, [
        Problem(code=e["code"], message=e["message"], field=e["field"])
        for e in field_errors(errors)
    ]


def _plain_values(payload: dict) -> dict | None:
    """The values PlainLinesSchema gives a payload whose every field is plainly valid,
    read with the schema's own fields and checked by its own validate(): printable ASCII
    text without surrounding spaces, a choice as it is, a whole number in range, an ISO
    date, an ISO date-time with its offset, a list of lines that _plain_lines passed.
    Anything else (None) goes through DRF, which finds the same values or says what is
    wrong. DRF spends most of an event's validation on these few fields; a test checks
    that both give the same values."""
    schema = SCHEMAS[True]
    values = {}
    for name, field in schema.fields.items():
        if name not in payload:
            if field.required:
                return None
            continue
        value = _plain_value(field, payload[name])
        if value is None:
            return None
        values[name] = value
    try:
        return schema.validate(values)
    except serializers.ValidationError:
        return None


def _plain_value(field, value):
    kind = type(field)
    if kind is serializers.CharField:
        ok = (
            type(value) is str
            and (field.min_length or 1) <= len(value) <= (field.max_length or len(value))
            and value.isascii()
            and value.isprintable()
            and value.strip() == value
        )
        return value if ok else None
    if kind is serializers.ChoiceField:
        return field.choice_strings_to_values.get(value) if type(value) is str else None
    if kind is serializers.IntegerField:
        ok = (
            type(value) is int
            and (field.min_value is None or field.min_value <= value)
            and (field.max_value is None or value <= field.max_value)
        )
        return value if ok else None
    if kind is serializers.DateField:
        return _parsed(dateparse.parse_date, value)
    if kind is serializers.DateTimeField and settings.USE_TZ and not hasattr(field, "timezone"):
        parsed = _parsed(dateparse.parse_datetime, value)
        if parsed is None or not timezone.is_aware(parsed):
            return None
        with contextlib.suppress(OverflowError):
            return parsed.astimezone(timezone.get_current_timezone())
        return None
    if kind is CheckedLines and type(value) is list and len(value) <= field.max_length:
        return list(value)
    return None


def _parsed(parse, value):
    """What Django's date parser makes of a text (None if it is not one)."""
    if type(value) is not str:
        return None
    try:
        return parse(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Design:
    """A validated event: its header and bill of material (item -> line spec)."""

    event_id: str
    type: str
    project: Project
    order_type: str
    occurred_at: datetime.datetime
    header: dict
    lines: dict[str, services.LineSpec]

    @property
    def bom(self) -> dict[str, int]:
        return {code: spec.quantity for code, spec in sorted(self.lines.items())}

    def header_json(self) -> dict:
        return {k: services.jsonable(v) for k, v in self.header.items()}


@dataclass
class Lookups:
    """The projects, items and kits a set of events refers to, loaded in a few queries."""

    projects: dict[str, Project]
    items: dict[str, Item]
    kits: dict[str, Kit]

    @classmethod
    def load(cls, payloads: list[dict]) -> Lookups:
        project_ids = {v["project_id"] for v in payloads}
        item_codes = {w["item"] for v in payloads for w in v.get("items", [])}
        kit_codes = {w["kit"] for v in payloads for w in v.get("kits", [])}
        live = KitVersion.objects.filter(published_at__isnull=False).prefetch_related(
            "components__item__replaced_by"
        )
        return cls(
            projects=Project.objects.select_related("market").in_bulk(
                project_ids, field_name="external_id"
            ),
            items=Item.objects.select_related("replaced_by__replaced_by").in_bulk(
                item_codes, field_name="code"
            ),
            kits=Kit.objects.prefetch_related(Prefetch("versions", queryset=live)).in_bulk(
                kit_codes, field_name="code"
            ),
        )

    def kit_version(self, kit: Kit, on: datetime.date) -> KitVersion | None:
        """The live version of the kit in effect on the date."""
        effective = [
            v
            for v in kit.versions.all()
            if v.effective_from <= on and (v.effective_to is None or v.effective_to > on)
        ]
        return max(effective, key=lambda v: v.effective_from, default=None)


def resolve(values: dict, lookups: Lookups) -> tuple[Design | None, list[Problem]]:
    """Check what the event refers to: the project, items and kits."""
    problems = []
    project = lookups.projects.get(values["project_id"])
    if project is None:
        problems.append(
            Problem(
                code="unknown_project",
                field="project_id",
                message=f"Project {values['project_id']} is unknown.",
            )
        )
    elif project.status != ProjectStatus.ACTIVE:
        problems.append(
            Problem(
                code="project_inactive",
                field="project_id",
                message=f"Project {project.external_id} is {project.get_status_display().lower()}.",
            )
        )
    lines, line_problems = _bill_of_material(values, lookups)
    problems += line_problems
    if problems:
        return None, problems
    header = {
        "need_by": values.get("need_by"),
        "national_priority": values.get("national_priority"),
        "plan_type": values.get("plan_type"),
    }
    return (
        Design(
            event_id=values["event_id"],
            type=values["type"],
            project=project,
            order_type=values["order_type"],
            occurred_at=values["occurred_at"],
            header={k: v for k, v in header.items() if v is not None},
            lines=lines,
        ),
        [],
    )


def _bill_of_material(
    values, lookups: Lookups
) -> tuple[dict[str, services.LineSpec], list[Problem]]:
    """Items and expanded kits as one line per item (see services.BillOfMaterial)."""
    wanted_items = values.get("items", [])
    wanted_kits = values.get("kits", [])
    items, kits = lookups.items, lookups.kits
    bill = services.BillOfMaterial()
    problems, add = bill.problems, bill.add

    for index, wanted in enumerate(wanted_items):
        item = items.get(wanted["item"])
        if item is None:
            problems.append(
                Problem(
                    code="unknown_item",
                    field=f"items[{index}].item",
                    message=f"Item {wanted['item']} is unknown.",
                )
            )
            continue
        add(item, wanted["quantity"], LineSource.UPSTREAM, None, f"items[{index}].item")
    on = values["occurred_at"].date()
    for index, wanted in enumerate(wanted_kits):
        kit = kits.get(wanted["kit"])
        version = lookups.kit_version(kit, on) if kit else None
        if version is None:
            problems.append(
                Problem(
                    code="unknown_kit",
                    field=f"kits[{index}].kit",
                    message=f"Kit {wanted['kit']} is unknown."
                    if kit is None
                    else f"Kit {kit.code} has no live version on {on}.",
                )
            )
            continue
        bill.add_kit(
            kit, version, wanted["quantity"], source=LineSource.KIT, field=f"kits[{index}].kit"
        )
    return bill.lines, problems


def header_values(header: dict, project: Project) -> dict:
    return {
        "need_by": datetime.date.fromisoformat(header["need_by"]),
        "national_priority": header.get("national_priority", 3),
        "plan_type": header.get("plan_type", project.plan_type),
    }
