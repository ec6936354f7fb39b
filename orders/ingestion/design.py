"""What a design event says (its schema is orders.ingestion.schema), and what it refers
to (project, items, kits)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch
from msgspec import UNSET

from catalog.models import Item, Kit, KitVersion
from oms.actors import Actor
from oms.errors import Problem
from orders import services
from orders.choices import LineSource, ProjectStatus
from orders.ingestion.schema import (
    MAX_LINES,
    DesignEventBody,
    schema_problems,
    schema_problems_many,
)
from orders.models import Project

ENGINEERING = Actor.system("engineering-system")

__all__ = [
    "ENGINEERING",
    "MAX_LINES",
    "Design",
    "DesignEventBody",
    "Lookups",
    "header_values",
    "resolve",
    "schema_problems",
    "schema_problems_many",
]


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
    def load(cls, events: list[DesignEventBody]) -> Lookups:
        project_ids = {v.project_id for v in events}
        item_codes = {w.item for v in events for w in v.items}
        kit_codes = {w.kit for v in events for w in v.kits}
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


def resolve(values: DesignEventBody, lookups: Lookups) -> tuple[Design | None, list[Problem]]:
    """Check what the event refers to: the project, items and kits."""
    problems = []
    project = lookups.projects.get(values.project_id)
    if project is None:
        problems.append(
            Problem(
                code="unknown_project",
                field="project_id",
                message=f"Project {values.project_id} is unknown.",
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
    occurred_at = values.occurred()
    lines, line_problems = _bill_of_material(values, occurred_at.date(), lookups)
    problems += line_problems
    if problems or project is None:  # no project is a problem
        return None, problems
    header = {
        "need_by": values.need_by,
        "national_priority": values.national_priority,
        "plan_type": values.plan_type,
    }
    return (
        Design(
            event_id=values.event_id,
            type=values.type,
            project=project,
            order_type=values.order_type,
            occurred_at=occurred_at,
            header={k: v for k, v in header.items() if v is not UNSET},
            lines=lines,
        ),
        [],
    )


def _bill_of_material(
    values: DesignEventBody, on: datetime.date, lookups: Lookups
) -> tuple[dict[str, services.LineSpec], list[Problem]]:
    """Items and expanded kits as one line per item (see services.BillOfMaterial); kits
    in the version in effect on the day the event occurred."""
    items, kits = lookups.items, lookups.kits
    bill = services.BillOfMaterial()
    problems, add = bill.problems, bill.add

    for index, wanted in enumerate(values.items):
        item = items.get(wanted.item)
        if item is None:
            problems.append(
                Problem(
                    code="unknown_item",
                    field=f"items[{index}].item",
                    message=f"Item {wanted.item} is unknown.",
                )
            )
            continue
        add(item, wanted.quantity, LineSource.UPSTREAM, None, f"items[{index}].item")
    for index, wanted_kit in enumerate(values.kits):
        kit = kits.get(wanted_kit.kit)
        version = lookups.kit_version(kit, on) if kit else None
        if kit is None or version is None:
            problems.append(
                Problem(
                    code="unknown_kit",
                    field=f"kits[{index}].kit",
                    message=f"Kit {wanted_kit.kit} is unknown."
                    if kit is None
                    else f"Kit {kit.code} has no live version on {on}.",
                )
            )
            continue
        bill.add_kit(
            kit, version, wanted_kit.quantity, source=LineSource.KIT, field=f"kits[{index}].kit"
        )
    return bill.lines, problems


def header_values(header: dict, project: Project) -> dict:
    return {
        "need_by": datetime.date.fromisoformat(header["need_by"]),
        "national_priority": header.get("national_priority", 3),
        "plan_type": header.get("plan_type", project.plan_type),
    }
