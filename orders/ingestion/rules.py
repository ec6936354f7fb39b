"""The upstream change rules, applied one event at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from catalog.models import Item
from oms import audit, correlation
from oms.errors import DomainError, Problem, ValidationFailed
from orders import gates, services
from orders.choices import (
    DesignEventType,
    DesignOutcome,
    LineSource,
    OrderKind,
    OrderStatus,
    ReasonCode,
)
from orders.ingestion.design import (
    ENGINEERING,
    Design,
    Lookups,
    header_values,
    resolve,
    schema_problems,
)
from orders.models import DesignEvent, DesignStream, Order, OrderLine

S = OrderStatus
REDUCED_AFTER = "Upstream reduced after "


JOB_COUNT: dict[str, str] = {
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
        if values is not None:  # read without problems
            design, problems = resolve(values, Lookups.load([values]))
        if design is None:  # problems found
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


def _finish(
    event: DesignEvent,
    outcome: str,
    *,
    order: Order | None = None,
    problems: Iterable[Problem] = (),
) -> DesignEvent:
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


def _remember(
    stream: DesignStream,
    design: Design,
    order: Order | None,
    *,
    bom: dict[str, int],
    header: dict,
) -> None:
    stream.order = order
    stream.bom, stream.header = bom, header
    stream.last_event_id = design.event_id
    stream.last_occurred_at = design.occurred_at
    stream.save()


def _lines_of(bom: dict[str, int]) -> dict[str, services.LineSpec]:
    items = Item.objects.in_bulk(list(bom), field_name="code")
    return {code: services.LineSpec(item=items[code], quantity=q) for code, q in bom.items()}


def _create(
    design: Design,
    lines: dict[str, services.LineSpec],
    header: dict,
    *,
    kind: OrderKind = OrderKind.ORIGINAL,
    parent: Order | None = None,
) -> Order:
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
        **header_values(header, design.project),
    )


def _change(
    design: Design,
    order: Order,
    stream: DesignStream,
    header: dict,
    bom: dict[str, int],
    lines: dict[str, services.LineSpec],
) -> tuple[str, Order]:
    status = order.status
    values = header_values(header, design.project)
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

    ordered, designed = _ordered(order)
    added = {code: q - ordered.get(code, 0) for code, q in bom.items()}
    added = {code: q for code, q in added.items() if q > 0}
    reduced = _reductions(ordered, designed, bom)
    order, flag_changed = _flag_reductions(design, order, reduced)
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
    if reduced and flag_changed:
        return DesignOutcome.FLAGGED, order
    # A schedule change after release, the reductions already flagged, or a reduction
    # restored (its flag taken off): nothing for the coordinator to do.
    return DesignOutcome.UNCHANGED, order


def _ordered(order: Order) -> tuple[dict[str, int], set[str]]:
    """What is already ordered for the stream whose order is `order` (released or
    closed): the quantities of its lines and of its delta and supplemental orders that
    are not cancelled, by item code; and the items among them that came from the design
    (not only from a coordinator)."""
    lines = (
        OrderLine.objects.filter(
            Q(order=order)
            | Q(order__parent=order, order__kind__in=(OrderKind.DELTA, OrderKind.SUPPLEMENTAL))
            & ~Q(order__status=S.CANCELLED)
        )
        .values_list("item__code", "source")
        .annotate(quantity=Sum("quantity"))
    )
    ordered: dict[str, int] = defaultdict(int)
    designed = set()
    for code, source, quantity in lines:
        ordered[code] += quantity
        if source != LineSource.MANUAL:
            designed.add(code)
    return ordered, designed


def _reductions(
    ordered: dict[str, int], designed: set[str], bom: dict[str, int]
) -> dict[str, tuple[int, int]]:
    """The design's items below what is already ordered: code -> (ordered, design)."""
    return {
        code: (ordered[code], bom.get(code, 0))
        for code in designed
        if bom.get(code, 0) < ordered[code]
    }


def _flag_reductions(
    design: Design, order: Order, reduced: dict[str, tuple[int, int]]
) -> tuple[Order, bool]:
    """The order's reduction note says what is reduced now, against what is ordered: it
    replaces the note before, and goes when the design is back to what is ordered, so the
    coordinator is never told of a reduction that no longer exists. Whether the flag
    changed."""
    status = order.get_status_display().lower()
    changes = "; ".join(f"{code} {old} -> {new}" for code, (old, new) in sorted(reduced.items()))
    flagged = [n for n in order.upstream_flag.splitlines() if n.startswith(REDUCED_AFTER)]
    if not reduced and not flagged:
        return order, False
    if reduced and len(flagged) == 1 and flagged[0].endswith(f"): {changes}"):
        return order, False
    note = f"{REDUCED_AFTER}{status} (event {design.event_id}): {changes}" if reduced else ""
    reason = note or (
        f"Upstream restored the design after {status} (event {design.event_id}): what is "
        "ordered covers it again, so the reduction flagged before no longer applies."
    )
    order = services.order_flag(
        order=order, note=note, actor=ENGINEERING, replaces=REDUCED_AFTER, reason=reason
    )
    return order, True


def _revise(
    design: Design, order: Order, values: dict, lines: dict[str, services.LineSpec]
) -> Order:
    return services.order_revise(
        order=order,
        header=values,
        lines=list(lines.values()),
        actor=ENGINEERING,
        event_id=design.event_id,
    )


# What a design cancelled upstream cancels: an order not yet released.
CANCELLED_UPSTREAM = (S.DRAFT, S.APPROVED, S.ALLOCATED)


def _cancel(design: Design, order: Order | None) -> str:
    """Cancel the stream's order if it is not released yet. Once it is, flag it, and
    cancel its delta and supplemental orders not released yet: the flag names them, and
    those already released, so no follow-up stays open without the coordinator knowing."""
    if order is None or order.status == S.CANCELLED:
        return DesignOutcome.UNCHANGED
    reason = f"Design cancelled upstream (event {design.event_id})."
    if order.status in CANCELLED_UPSTREAM:
        _cancel_order(order, reason)
        return DesignOutcome.CANCELLED
    follow_ups = list(
        Order.objects.filter(parent=order, kind__in=(OrderKind.DELTA, OrderKind.SUPPLEMENTAL))
        .exclude(status=S.CANCELLED)
        .order_by("pk")
    )
    cancelled = [o.number for o in follow_ups if o.status in CANCELLED_UPSTREAM]
    going = [o for o in follow_ups if o.status not in CANCELLED_UPSTREAM]
    for follow_up in follow_ups:
        if follow_up.status in CANCELLED_UPSTREAM:
            _cancel_order(follow_up, reason)
    note = (
        f"Design cancelled upstream after {order.get_status_display().lower()} "
        f"(event {design.event_id})."
    )
    if cancelled:
        note += f" Follow-up orders cancelled: {', '.join(cancelled)}."
    if going:
        note += (
            " Follow-up orders already released: "
            + ", ".join(f"{o.number} ({o.get_status_display().lower()})" for o in going)
            + "."
        )
    services.order_flag(order=order, note=note, actor=ENGINEERING)
    for follow_up in going:
        services.order_flag(
            order=follow_up,
            note=f"Design cancelled upstream after this order was "
            f"{follow_up.get_status_display().lower()} (event {design.event_id}).",
            actor=ENGINEERING,
        )
    return DesignOutcome.FLAGGED


def _cancel_order(order: Order, reason: str) -> None:
    services.order_cancel(
        order=order,
        actor=ENGINEERING,
        reason_code=ReasonCode.UPSTREAM_CANCELLED,
        reason_text=reason,
    )
