"""Design events in batches. The common cases, a new order and a draft revised by its
design, are written set-based: a fixed number of queries per batch, whatever its size.
Every other case (a stream with several events in the batch, an order past DRAFT, a
stale or cancelling event) goes through the per-event rules (rules.py).

Both paths apply the same rules and write the same records: orders and lines with
their history (the engineering system as actor, the event id as reason and
correlation id), revisions with their delta, outbox events, and the event's outcome.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from oms import audit, counters, outbox
from oms.bulk import (
    delete_rows,
    gc_paused,
    insert_missing,
    insert_rows,
    insert_values,
    update_rows,
)
from oms.errors import Problem
from oms.jobs import JobCounts
from orders import gates, services
from orders.choices import DesignEventType, DesignOutcome, OrderStatus
from orders.ingestion.design import (
    ENGINEERING,
    Design,
    DesignEventBody,
    Lookups,
    header_values,
    resolve,
    schema_problems_many,
)
from orders.ingestion.rules import JOB_COUNT, process
from orders.locks import lock_line_values, lock_orders
from orders.models import (
    DesignEvent,
    DesignStream,
    Order,
    OrderLine,
    OrderRevision,
    order_number,
)
from warehouse.ledger import reservations

FAST_TYPES = {DesignEventType.DESIGN_APPROVED, DesignEventType.BOM_REVISED}


@dataclass
class Work:
    event: DesignEvent
    design: Design
    stream: DesignStream
    # The stream's draft, for a revision; for a new order, set once _create makes it.
    order: Order | None = None

    @property
    def target(self) -> Order:
        """The order this work writes: every work has one once _create has run."""
        assert self.order is not None, f"{self.reason} has no order yet"
        return self.order

    @property
    def reason(self) -> str:
        return f"design event {self.event.event_id}"

    @property
    def correlation_id(self) -> str:
        return self.event.event_id[:64]


@gc_paused()
def process_batch(events: Iterable[DesignEvent], counts: JobCounts) -> None:
    """Process stored events (DesignEvent instances, read at any time before), counting
    each outcome. Only the events still RECEIVED are processed, the others (a retry of
    the batch) are skipped; what can change while an event waits (a correction, its
    attempts) is read again under the lock."""
    events = list(events)
    with audit.acting(ENGINEERING, reason="design events"), transaction.atomic():
        waiting = {
            pk: (attempts, corrected)
            for pk, attempts, corrected in DesignEvent.objects.select_for_update()
            .filter(pk__in=[e.pk for e in events], status=DesignEvent.Status.RECEIVED)
            .order_by("pk")
            .values_list("pk", "attempts", "corrected_payload")
        }
        counts.add("skipped", len(events) - len(waiting))
        events = sorted((e for e in events if e.pk in waiting), key=lambda e: e.pk)
        for event in events:
            event.attempts, event.corrected_payload = waiting[event.pk]
            event.status = DesignEvent.Status.RECEIVED
        valid, invalid = _validate(events)
        creations, revisions, one_by_one = _sort(valid)
        _create(creations, invalid)
        _revise(revisions)
        done = [w for w in creations if w.event.pk not in invalid] + revisions
        _record(done, invalid, events)
    for work in done:
        counts.add(JOB_COUNT[work.event.outcome])
    for event in _invalid_events(events, invalid):
        counts.add("failed")
        counts.detail.setdefault("invalid", []).append(event.event_id)
    for event in sorted(one_by_one, key=lambda e: e.pk):
        event = process(event)
        counts.add(JOB_COUNT[event.outcome])
        if event.status == DesignEvent.Status.INVALID:
            counts.detail.setdefault("invalid", []).append(event.event_id)


def _invalid_events(
    events: list[DesignEvent], invalid: Mapping[int, list[Problem]]
) -> list[DesignEvent]:
    return [event for event in events if event.pk in invalid]


def _validate(
    events: list[DesignEvent],
) -> tuple[list[tuple[DesignEvent, Design]], dict[int, list[Problem]]]:
    """Shape, then references, for all events together."""
    invalid: dict[int, list[Problem]] = {}
    parsed: dict[int, DesignEventBody] = {}
    read = schema_problems_many([event.current_payload for event in events])
    for event, (values, problems) in zip(events, read, strict=True):
        if values is None:  # problems found
            invalid[event.pk] = problems
        else:
            parsed[event.pk] = values
    lookups = Lookups.load(list(parsed.values()))
    valid = []
    for event in events:
        if event.pk not in parsed:
            continue
        design, problems = resolve(parsed[event.pk], lookups)
        if design is None:  # problems found
            invalid[event.pk] = problems
        else:
            valid.append((event, design))
    return valid, invalid


def _sort(
    valid: list[tuple[DesignEvent, Design]],
) -> tuple[list[Work], list[Work], list[DesignEvent]]:
    """Which events take the set-based path, and which the per-event one."""
    by_stream: defaultdict[tuple[int, str], list[tuple[DesignEvent, Design]]] = defaultdict(list)
    for event, design in valid:
        by_stream[(design.project.pk, design.order_type)].append((event, design))
    insert_missing(DesignStream, [DesignStream(project_id=p, order_type=t) for p, t in by_stream])
    streams = {
        (s.project_id, s.order_type): s
        for s in DesignStream.objects.select_for_update()
        .filter(project_id__in={p for p, _ in by_stream})
        .order_by("pk")
        if (s.project_id, s.order_type) in by_stream
    }
    orders = lock_orders(s.order_id for s in streams.values() if s.order_id)
    creations: list[Work] = []
    revisions: list[Work] = []
    one_by_one: list[DesignEvent] = []
    for key, arrived in by_stream.items():
        stream = streams[key]
        (event, design), *more = arrived
        order = orders.get(stream.order_id) if stream.order_id else None
        stale = stream.last_occurred_at and design.occurred_at < stream.last_occurred_at
        if more or stale or design.type not in FAST_TYPES:
            one_by_one += [event for event, _ in arrived]
        elif order is None or order.status == OrderStatus.CANCELLED or not stream.bom:
            creations.append(Work(event, design, stream))
        elif order.status == OrderStatus.DRAFT and not _same(design, stream):
            revisions.append(Work(event, design, stream, order))
        else:
            one_by_one.append(event)
    return creations, revisions, one_by_one


def _same(design: Design, stream: DesignStream) -> bool:
    return {**stream.header, **design.header_json()} == stream.header and (design.bom == stream.bom)


# --- New orders -------------------------------------------------------------------------


def _create(work: list[Work], invalid: dict[int, list[Problem]]) -> None:
    ready = []
    for w in work:
        problem = gates.creation_problem(w.design.project, w.design.order_type)
        if problem:
            invalid[w.event.pk] = [problem]
        else:
            ready.append(w)
    if not ready:
        return
    numbers = counters.take("order", len(ready))
    for w, number in zip(ready, numbers, strict=True):
        header = header_values(w.design.header_json(), w.design.project)
        gate = gates.release_gate(w.design.project, w.design.order_type)
        w.order = Order(
            number=order_number(number),
            project=w.design.project,
            order_type=w.design.order_type,
            gated=bool(gate),
            gate_reason=gate,
            correlation_id=w.correlation_id,
            **header,
        )
    orders = [w.target for w in ready]
    insert_rows(Order, orders)
    _history(Order, orders, ready, "+")
    lines = [
        {
            "order_id": w.target.pk,
            "item_id": spec.item.pk,
            "quantity": spec.quantity,
            "source": spec.source,
            "kit_id": spec.kit.pk if spec.kit else None,
            "replaces_item_id": spec.replaces_item.pk if spec.replaces_item else None,
            "allocated_quantity": 0,
            "released_quantity": 0,
            "returned_quantity": 0,
        }
        for w in ready
        for spec in w.design.lines.values()
    ]
    insert_values(OrderLine, lines)
    audit.bulk_history_of(
        OrderLine.objects.filter(order__in=orders),
        history_type="+",
        key="order_id",
        reasons={w.target.pk: (w.reason, w.correlation_id) for w in ready},
    )
    added = {w.event.pk: _added(w.design.lines) for w in ready}
    _revisions(ready, lambda w: 1, lambda w: {"lines": added[w.event.pk]})
    _outbox(
        ready,
        "order.created",
        lambda w: {
            "number": w.target.number,
            "project": w.design.project.external_id,
            "kind": w.target.kind,
            "parent": None,
            "lines": added[w.event.pk]["added"],
            "actor": ENGINEERING.as_payload(),
        },
    )
    for w in ready:
        w.event.outcome = DesignOutcome.CREATED


def _added(lines: dict[str, services.LineSpec]) -> dict:
    return {
        "added": [{"item": code, "quantity": s.quantity} for code, s in lines.items()],
        "removed": [],
        "changed": [],
    }


# --- Drafts revised in place ------------------------------------------------------------


LINE_COLUMNS = (
    "pk",
    "order_id",
    "item_id",
    "item__code",
    "quantity",
    "source",
    "kit_id",
    "replaces_item_id",
    "allocated_quantity",
    "released_quantity",
    "returned_quantity",
)


def _revise(work: list[Work]) -> None:
    if not work:
        return
    # The drafts' lines as plain values (locked); model instances only for the few
    # that change.
    by_order: defaultdict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for line in lock_line_values((w.target for w in work), LINE_COLUMNS):
        by_order[line["order_id"]][line["item_id"]] = line
    changed_lines: list[tuple[Work, OrderLine]] = []
    new_lines: list[tuple[Work, OrderLine]] = []
    gone: list[tuple[Work, int]] = []
    deltas: dict[int, dict[str, Any]] = {}
    for w in work:
        order = w.target
        current = {
            item_id: services.LineState(
                line["item__code"],
                line["quantity"],
                line["source"],
                line["kit_id"],
                line["replaces_item_id"],
                line["released_quantity"],
                line,
            )
            for item_id, line in by_order[order.pk].items()
        }
        diff = services.diff_lines(current, {s.item.pk: s for s in w.design.lines.values()})
        delta = diff.delta
        shipped = [(line.item_code, line.released_quantity) for line in diff.shipped]
        gone += [(w, line.ref["pk"]) for line in diff.removed]
        for state, spec in diff.updated:
            values = {k: v for k, v in state.ref.items() if k != "item__code"}
            values.update(
                quantity=spec.quantity,
                source=spec.source,
                kit_id=spec.kit.pk if spec.kit else None,
                replaces_item_id=spec.replaces_item.pk if spec.replaces_item else None,
            )
            changed_lines.append((w, OrderLine(**values)))
        for spec in diff.added:
            new_lines.append((w, spec.line_of(order)))
        header = header_values({**w.stream.header, **w.design.header_json()}, w.design.project)
        header_delta = {
            name: [services.jsonable(getattr(order, name)), services.jsonable(value)]
            for name, value in header.items()
            if getattr(order, name) != value
        }
        for name, value in header.items():
            setattr(order, name, value)
        if shipped:
            services.add_flags(order, services.shipped_notes(shipped))
        deltas[w.event.pk] = {"lines": delta, **({"header": header_delta} if header_delta else {})}
        order.revision += 1
        order.version += 1
        order.updated_at = timezone.now()
    _write_lines(changed_lines, new_lines, gone)
    orders = [w.target for w in work]
    update_rows(
        Order,
        orders,
        [
            "need_by",
            "national_priority",
            "plan_type",
            "upstream_flag",
            "revision",
            "version",
            "updated_at",
        ],
    )
    _history(Order, orders, work, "~")
    _revisions(work, lambda w: w.target.revision, lambda w: deltas[w.event.pk])
    _outbox(
        work,
        "order.revised",
        lambda w: {
            "number": w.target.number,
            "revision": w.target.revision,
            "delta": deltas[w.event.pk],
        },
    )
    for w in work:
        w.event.outcome = DesignOutcome.REVISED


def _write_lines(
    changed: list[tuple[Work, OrderLine]],
    new: list[tuple[Work, OrderLine]],
    gone: list[tuple[Work, int]],
) -> None:
    if changed:
        update_rows(
            OrderLine, [line for _, line in changed], ["quantity", "source", "kit", "replaces_item"]
        )
        _history(OrderLine, [line for _, line in changed], [w for w, _ in changed], "~")
    if new:
        insert_rows(OrderLine, [line for _, line in new])
        _history(OrderLine, [line for _, line in new], [w for w, _ in new], "+")
    if gone:
        reservations.forget_lines(pk for _, pk in gone)
        audit.bulk_history_of(
            OrderLine.objects.filter(pk__in=[pk for _, pk in gone]),
            history_type="-",
            key="order_id",
            reasons={w.target.pk: (w.reason, w.correlation_id) for w, _ in gone},
        )
        delete_rows(OrderLine, [pk for _, pk in gone])


# --- Records shared by both -------------------------------------------------------------


def _history(
    model: type[Model], instances: Sequence[Model], work: list[Work], history_type: str
) -> None:
    audit.bulk_history(
        model,
        instances,
        history_type=history_type,
        reasons=[w.reason for w in work],
        correlation_ids=[w.correlation_id for w in work],
    )


def _revisions(
    work: list[Work], number: Callable[[Work], int], delta: Callable[[Work], dict]
) -> None:
    now = timezone.now()
    insert_values(
        OrderRevision,
        [
            {
                "order_id": w.target.pk,
                "number": number(w),
                "source": "upstream",
                "event_id": w.event.event_id,
                "delta": delta(w),
                "actor_kind": ENGINEERING.kind.value,
                "actor_name": ENGINEERING.name,
                "correlation_id": w.correlation_id,
                "created_at": now,
            }
            for w in work
        ],
    )


def _outbox(work: list[Work], event_type: str, payload: Callable[[Work], dict]) -> None:
    outbox.publish_many(
        [
            {
                "event_type": event_type,
                "aggregate_type": "order",
                "aggregate_id": w.target.pk,
                "payload": payload(w),
                "correlation_id": w.correlation_id,
            }
            for w in work
        ]
    )


def _record(done: list[Work], invalid: dict[int, list[Problem]], events: list[DesignEvent]) -> None:
    """The streams' new state, and each event's outcome, with history."""
    now = timezone.now()
    streams = []
    for w in done:
        w.stream.order = w.order
        w.stream.header = {**w.stream.header, **w.design.header_json()}
        w.stream.bom = w.design.bom
        w.stream.last_event_id = w.event.event_id
        w.stream.last_occurred_at = w.design.occurred_at
        streams.append(w.stream)
        w.event.order = w.order
    update_rows(
        DesignStream, streams, ["order", "header", "bom", "last_event_id", "last_occurred_at"]
    )
    finished = [w.event for w in done] + _invalid_events(events, invalid)
    for event in finished:
        event.attempts += 1
        event.processed_at = now
        if event.pk in invalid:
            event.status = DesignEvent.Status.INVALID
            event.outcome = DesignOutcome.INVALID
            event.problems = [p.as_dict() for p in invalid[event.pk]]
        else:
            event.status = DesignEvent.Status.PROCESSED
    # The events are locked, so their attempts as read are current.
    update_rows(
        DesignEvent,
        finished,
        ["status", "outcome", "problems", "processed_at", "attempts", "order"],
    )
    audit.bulk_history(
        DesignEvent,
        finished,
        history_type="~",
        reasons=[f"design event {e.event_id}" for e in finished],
        correlation_ids=[e.event_id[:64] for e in finished],
    )
