"""Design events from the engineering system: received and stored first, then validated
and turned into orders by the upstream change rules of DOMAIN.md.

A design event is matched to its stream (project + order type). The stream remembers
the last applied design, so the next event is compared against it:

- no order yet (or only a cancelled one): a new order in DRAFT (revision 1);
- the same design as last applied: unchanged;
- order DRAFT: revised in place, the delta recorded;
- order APPROVED or ALLOCATED: allocations released, back to DRAFT ("upstream change"),
  then revised;
- order RELEASED: a delta order in DRAFT with the added quantities; reductions flagged;
- order CLOSED (or returned): a supplemental order in DRAFT holding only what is new;
- `design_cancelled`: cancels an order not yet released, flags one that is.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from rest_framework import serializers

from catalog.choices import ItemLifecycle
from catalog.models import Item, Kit, KitVersion
from oms import audit, correlation
from oms.actors import Actor
from oms.api.problems import field_errors
from oms.errors import ActionForbidden, DomainError, Problem, ValidationFailed
from orders import gates, services
from orders.choices import (
    DesignEventType,
    DesignOutcome,
    LineSource,
    OrderKind,
    OrderStatus,
    OrderType,
    PlanType,
    ProjectStatus,
    ReasonCode,
)
from orders.models import DesignEvent, DesignStream, Order, Project

ENGINEERING = Actor.system("engineering-system")
S = OrderStatus
MAX_LINES = 2000


# --- The payload ------------------------------------------------------------------------


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


def schema_problems(payload) -> tuple[dict | None, list[Problem]]:
    """The payload's values, or the problems of its shape and types."""
    if not isinstance(payload, dict):
        return None, [Problem(code="invalid", message="An event is a JSON object.")]
    schema = DesignEventSchema(data=payload)
    if schema.is_valid():
        return schema.validated_data, []
    return None, [
        Problem(code=e["code"], message=e["message"], field=e["field"])
        for e in field_errors(schema.errors)
    ]


# --- Receiving --------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    event: DesignEvent | None
    duplicate: bool
    problems: tuple[Problem, ...] = ()


def receive(payload, *, received_from: str) -> Received:
    """Store an event as sent, before anything else. An event id already stored is a
    duplicate and changes nothing. Without an event id there is nothing to store it by."""
    event_id = payload.get("event_id") if isinstance(payload, dict) else None
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 100:
        return Received(
            None,
            False,
            (Problem(code="required", field="event_id", message="Every event has an event_id."),),
        )
    existing = DesignEvent.objects.filter(event_id=event_id).first()
    if existing:
        return Received(existing, True)
    fields = _envelope(payload)
    try:
        with transaction.atomic(), audit.acting(ENGINEERING, reason=f"design event {event_id}"):
            event = DesignEvent.objects.create(
                event_id=event_id, payload=payload, received_from=received_from, **fields
            )
    except IntegrityError:  # the same event, received at the same moment elsewhere
        return Received(DesignEvent.objects.get(event_id=event_id), True)
    return Received(event, False)


def _envelope(payload: dict) -> dict:
    """Searchable copies of a few fields, when they have the right shape."""
    occurred = serializers.DateTimeField().run_validation
    try:
        occurred_at = occurred(payload.get("occurred_at"))
    except (serializers.ValidationError, TypeError):
        occurred_at = None
    text = {k: payload.get(k) for k in ("type", "project_id", "order_type")}
    text = {k: v if isinstance(v, str) else "" for k, v in text.items()}
    return {
        "event_type": text["type"][:32],
        "project_external_id": text["project_id"][:40],
        "order_type": text["order_type"][:20],
        "occurred_at": occurred_at,
    }


# --- Processing -------------------------------------------------------------------------


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


def process(event: DesignEvent) -> DesignEvent:
    """Validate and apply one stored event, once. Invalid events go to the dead letters
    with every problem found; reprocessing a processed event has no effect."""
    with (
        correlation.use(event.event_id[:64]),
        audit.acting(ENGINEERING, reason=f"design event {event.event_id}"),
        transaction.atomic(),
    ):
        event = DesignEvent.objects.select_for_update().get(pk=event.pk)
        if event.status != DesignEvent.Status.RECEIVED:
            return event
        event.attempts += 1
        values, problems = schema_problems(event.current_payload)
        design = None
        if not problems:
            design, problems = _resolve(values, Lookups.load([values]))
        if problems:
            return _finish(event, DesignOutcome.INVALID, problems=problems)
        try:
            with transaction.atomic():
                outcome, order = _apply(design)
        except ValidationFailed as exc:
            return _finish(
                event,
                DesignOutcome.INVALID,
                problems=list(exc.problems) or [Problem(code=exc.code, message=exc.message)],
            )
        except DomainError as exc:
            return _finish(
                event, DesignOutcome.INVALID, problems=[Problem(code=exc.code, message=str(exc))]
            )
        return _finish(event, outcome, order=order)


def _finish(event, outcome, *, order=None, problems=()) -> DesignEvent:
    event.status = (
        DesignEvent.Status.INVALID
        if outcome == DesignOutcome.INVALID
        else DesignEvent.Status.PROCESSED
    )
    event.outcome = outcome
    event.problems = [p.as_dict() for p in problems]
    event.order = order or event.order
    event.processed_at = timezone.now()
    event.save()
    return event


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


def _resolve(values: dict, lookups: Lookups) -> tuple[Design | None, list[Problem]]:
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
    """Items and expanded kits as one line per item; a replaced item becomes its
    successor (the line says which item was asked for)."""
    wanted_items = values.get("items", [])
    wanted_kits = values.get("kits", [])
    items, kits = lookups.items, lookups.kits
    problems: list[Problem] = []
    lines: dict[str, services.LineSpec] = {}

    def add(item: Item, quantity: int, source: str, kit: Kit | None, field: str):
        asked = item
        while item.lifecycle == ItemLifecycle.REPLACED and item.replaced_by is not None:
            item = item.replaced_by
        if item.lifecycle != ItemLifecycle.ACTIVE:
            problems.append(
                Problem(
                    code="item_inactive",
                    field=field,
                    message=f"{item.code} is {item.get_lifecycle_display().lower()}.",
                )
            )
            return
        previous = lines.get(item.code)
        if previous is not None:
            quantity += previous.quantity
            source, kit = (
                LineSource.UPSTREAM if previous.source != source else source,
                (kit if previous.kit == kit else None),
            )
        lines[item.code] = services.LineSpec(
            item=item,
            quantity=quantity,
            source=source,
            kit=kit,
            replaces_item=asked
            if asked != item
            else (previous.replaces_item if previous else None),
        )

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
        for component in version.components.all():
            add(
                component.item,
                component.quantity * wanted["quantity"],
                LineSource.KIT,
                kit,
                f"kits[{index}].kit",
            )
    return lines, problems


def _apply(design: Design) -> tuple[str, Order | None]:
    """The upstream change rules. The stream row is locked, so events of one stream are
    applied one at a time."""
    DesignStream.objects.get_or_create(project=design.project, order_type=design.order_type)
    stream = DesignStream.objects.select_for_update().get(
        project=design.project, order_type=design.order_type
    )
    if stream.last_occurred_at and design.occurred_at < stream.last_occurred_at:
        return DesignOutcome.STALE, stream.order
    order = Order.objects.get(pk=stream.order_id) if stream.order_id else None

    if design.type == DesignEventType.DESIGN_CANCELLED:
        outcome = _cancel(design, order)
        _remember(stream, design, order, bom={}, header=stream.header)
        return outcome, order

    header = {**stream.header, **design.header_json()}
    bom = design.bom if design.lines else stream.bom
    lines = design.lines or _lines_of(stream.bom)
    if order is None or order.status == S.CANCELLED or not stream.bom:
        if design.type == DesignEventType.SCHEDULE_UPDATED or not lines:
            raise ValidationFailed(
                "There is no design to reschedule.",
                problems=[Problem(code="no_design", message="No design was applied yet.")],
            )
        order = _create(design, lines, header)
        _remember(stream, design, order, bom=bom, header=header)
        return DesignOutcome.CREATED, order
    if header == stream.header and bom == stream.bom:
        _remember(stream, design, order, bom=bom, header=header)
        return DesignOutcome.UNCHANGED, order

    outcome, result = _change(design, order, stream, header, bom, lines)
    _remember(stream, design, order, bom=bom, header=header)
    return outcome, result


def _remember(stream, design, order, *, bom, header) -> None:
    stream.order = order
    stream.bom, stream.header = bom, header
    stream.last_event_id = design.event_id
    stream.last_occurred_at = design.occurred_at
    stream.save()


def _lines_of(bom: dict[str, int]) -> dict[str, services.LineSpec]:
    items = Item.objects.in_bulk(list(bom), field_name="code")
    return {code: services.LineSpec(item=items[code], quantity=q) for code, q in bom.items()}


def _header_values(header: dict, project: Project) -> dict:
    return {
        "need_by": datetime.date.fromisoformat(header["need_by"]),
        "national_priority": header.get("national_priority", 3),
        "plan_type": header.get("plan_type", project.plan_type),
    }


def _create(design, lines, header, *, kind=OrderKind.ORIGINAL, parent=None) -> Order:
    problem = gates.creation_problem(design.project, design.order_type)
    if problem and kind == OrderKind.ORIGINAL:
        raise ValidationFailed("The project is not ready for this order.", problems=[problem])
    gate = gates.release_gate(design.project, design.order_type)
    return services.order_create(
        project=design.project,
        order_type=design.order_type,
        kind=kind,
        parent=parent,
        lines=list(lines.values()),
        actor=ENGINEERING,
        event_id=design.event_id,
        correlation_id=correlation.get(),
        gated=bool(gate),
        gate_reason=gate,
        **_header_values(header, design.project),
    )


def _change(design, order, stream, header, bom, lines) -> tuple[str, Order]:
    status = order.status
    values = _header_values(header, design.project)
    if status == S.DRAFT:
        return DesignOutcome.REVISED, _revise(design, order, values, lines)
    if status in (S.APPROVED, S.ALLOCATED):
        order = services.order_reject(
            order=order,
            actor=ENGINEERING,
            reason_code=ReasonCode.UPSTREAM_CHANGE,
            reason_text=f"Design changed upstream (event {design.event_id}); review again.",
        )
        return DesignOutcome.RETURNED_TO_DRAFT, _revise(design, order, values, lines)

    added = {code: q - stream.bom.get(code, 0) for code, q in bom.items()}
    added = {code: q for code, q in added.items() if q > 0}
    reduced = {
        code: (q, bom.get(code, 0)) for code, q in stream.bom.items() if bom.get(code, 0) < q
    }
    if reduced:
        note = "; ".join(f"{code} {old} -> {new}" for code, (old, new) in sorted(reduced.items()))
        order = services.order_flag(
            order=order,
            note=f"Upstream reduced after {order.get_status_display().lower()} "
            f"(event {design.event_id}): {note}",
            actor=ENGINEERING,
        )
    if added:
        kind = OrderKind.DELTA if status == S.RELEASED else OrderKind.SUPPLEMENTAL
        extra = {
            code: services.LineSpec(
                item=lines[code].item,
                quantity=quantity,
                source=lines[code].source,
                kit=lines[code].kit,
                replaces_item=lines[code].replaces_item,
            )
            for code, quantity in added.items()
        }
        child = _create(design, extra, header, kind=kind, parent=order)
        outcome = (
            DesignOutcome.DELTA_ORDER
            if kind == OrderKind.DELTA
            else DesignOutcome.SUPPLEMENTAL_ORDER
        )
        return outcome, child
    if reduced:
        return DesignOutcome.FLAGGED, order
    return DesignOutcome.UNCHANGED, order  # a schedule change after release: nothing to do


def _revise(design, order, values, lines) -> Order:
    return services.order_revise(
        order=order,
        header=values,
        lines=list(lines.values()),
        actor=ENGINEERING,
        event_id=design.event_id,
    )


def _cancel(design, order) -> str:
    if order is None or order.status == S.CANCELLED:
        return DesignOutcome.UNCHANGED
    if order.status in (S.DRAFT, S.APPROVED, S.ALLOCATED):
        services.order_cancel(
            order=order,
            actor=ENGINEERING,
            reason_code=ReasonCode.UPSTREAM_CANCELLED,
            reason_text=f"Design cancelled upstream (event {design.event_id}).",
        )
        return DesignOutcome.CANCELLED
    services.order_flag(
        order=order,
        note=f"Design cancelled upstream after {order.get_status_display().lower()} "
        f"(event {design.event_id}).",
        actor=ENGINEERING,
    )
    return DesignOutcome.FLAGGED


# --- Dead letters -----------------------------------------------------------------------


def correct(*, event: DesignEvent, payload: dict, actor: Actor) -> DesignEvent:
    """A coordinator fixes an invalid event; the original stays as sent. The event is
    then processed again."""
    if not actor.has_perm("orders.enrich_order"):
        raise ActionForbidden(f"{actor} may not correct design events.")
    with (
        transaction.atomic(),
        audit.acting(actor, reason=f"design event {event.event_id} corrected"),
    ):
        event = DesignEvent.objects.select_for_update().get(pk=event.pk)
        if event.status != DesignEvent.Status.INVALID:
            raise ValidationFailed(
                f"Event {event.event_id} is {event.get_status_display().lower()}; only invalid "
                "events are corrected."
            )
        if not isinstance(payload, dict) or payload.get("event_id") != event.event_id:
            raise ValidationFailed(
                "The corrected payload keeps the event's id.",
                problems=[Problem(code="event_id", field="event_id", message="Keep the event_id.")],
            )
        event.corrected_payload = payload
        event.status = DesignEvent.Status.RECEIVED
        event.outcome = ""
        event.problems = []
        event.save()
    return event


def reprocess(*, event: DesignEvent, actor: Actor) -> DesignEvent:
    """Process an invalid event again as it is (say, once its project has reached the
    milestone or its item is in the catalog). A processed event is left alone."""
    if not actor.has_perm("orders.enrich_order"):
        raise ActionForbidden(f"{actor} may not reprocess design events.")
    with transaction.atomic(), audit.acting(actor, reason=f"design event {event.event_id} retried"):
        event = DesignEvent.objects.select_for_update().get(pk=event.pk)
        if event.status == DesignEvent.Status.INVALID:
            event.status = DesignEvent.Status.RECEIVED
            event.save()
    return process(event)


def schedule(events: Iterable[DesignEvent], *, source: str) -> None:
    """Process the events as one batch in a Celery task once the current transaction
    commits (in process, at once, when there is no broker)."""
    from orders.tasks import process_design_events

    pks = [event.pk for event in events]
    if pks:
        transaction.on_commit(partial(process_design_events.delay, pks, source))


# How each outcome counts in a job run.
JOB_COUNT = {
    DesignOutcome.CREATED: "created",
    DesignOutcome.DELTA_ORDER: "created",
    DesignOutcome.SUPPLEMENTAL_ORDER: "created",
    DesignOutcome.REVISED: "modified",
    DesignOutcome.RETURNED_TO_DRAFT: "modified",
    DesignOutcome.CANCELLED: "modified",
    DesignOutcome.FLAGGED: "modified",
    DesignOutcome.UNCHANGED: "skipped",
    DesignOutcome.DUPLICATE: "skipped",
    DesignOutcome.STALE: "skipped",
    DesignOutcome.INVALID: "failed",
}
