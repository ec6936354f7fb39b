"""An order's timeline: its history and its lines', its notes, and what happened to its
releases (calls to warehouse systems and the releases' events), merged in time order."""

import datetime
from dataclasses import dataclass, replace

from django.contrib.auth import get_user_model

from oms.models import OutboxEvent
from orders.choices import TimelineKind
from orders.models import Order, OrderLine, OrderNote
from orders.selectors import person_name
from warehouse.integration.delivery import explain
from warehouse.integration.models import WarehouseCall

# Bookkeeping fields that change with every save and say nothing to a reader.
TIMELINE_IGNORED_FIELDS = {
    "updated_at",
    "version",
    "status_changed_at",
    "lines_edited_by",
    "correlation_id",
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: object
    new: object


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime.datetime
    subject: str  # "order" or "line <item code>"
    action: str  # created, changed, deleted
    actor_kind: str
    actor_name: str
    reason: str
    correlation_id: str
    changes: tuple[FieldChange, ...]
    history_id: int
    kind: str = TimelineKind.HISTORY
    detail: str = ""
    technical: str = ""  # raw error text, for staff only


def order_timeline(order: Order) -> list[TimelineEntry]:
    """The audit history of an order and its lines together, with the calls OMS made to
    warehouses for it, what the warehouses answered and the notes written on it, newest
    first: who, which kind of actor, which fields changed from what to what, when and
    why. Five queries, however long the history."""
    order_records = list(order.history.order_by("history_date", "history_id"))
    line_records = list(
        OrderLine.history.filter(order_id=order.pk)
        .select_related("item")
        .order_by("history_date", "history_id")
    )
    entries = _entries(order_records, Order, lambda record: "order")
    entries += _entries(line_records, OrderLine, lambda record: f"line {record.item.code}")
    entries = _with_assignee_names(entries)
    entries += warehouse_entries(order)
    entries += note_entries(order)
    entries.sort(key=lambda e: (e.when, e.history_id), reverse=True)
    return entries


@dataclass(frozen=True)
class TimelineAction:
    """One action on the order's page timeline: what one actor wrote at once (a
    transition with its line changes, an edit of several lines), or one note, call to a
    warehouse or release event."""

    when: datetime.datetime
    actor_kind: str
    actor_name: str
    reason: str
    kind: str
    entries: tuple[TimelineEntry, ...]


# History entries of one actor and one request (correlation id) this close together are
# one action: the same transaction writes them within a few milliseconds.
ONE_ACTION_WITHIN = datetime.timedelta(seconds=5)


def timeline_actions(
    entries: list[TimelineEntry], *, actor_kind: str = "", kind: str = ""
) -> list[TimelineAction]:
    """The timeline as actions, newest first, with only the entries of one kind of actor
    (ActorKind) and one kind of change (TimelineKind) when asked."""
    actions: list[TimelineAction] = []
    group: list[TimelineEntry] = []

    def close() -> None:
        if group:
            first = next((e for e in group if e.subject == "order"), group[0])
            actions.append(
                TimelineAction(
                    when=group[0].when,
                    actor_kind=first.actor_kind,
                    actor_name=first.actor_name,
                    reason=first.reason,
                    kind=first.kind,
                    entries=tuple(group),
                )
            )
            group.clear()

    for entry in entries:
        if (actor_kind and entry.actor_kind != actor_kind) or (kind and entry.kind != kind):
            continue
        if not (group and _same_action(group[0], entry)):
            close()
        group.append(entry)
    close()
    return actions


def _same_action(first: TimelineEntry, entry: TimelineEntry) -> bool:
    return (
        first.kind == entry.kind == TimelineKind.HISTORY
        and (first.actor_kind, first.actor_name) == (entry.actor_kind, entry.actor_name)
        and (first.correlation_id or first.reason) == (entry.correlation_id or entry.reason)
        and first.when - entry.when <= ONE_ACTION_WITHIN
    )


def note_entries(order: Order) -> list[TimelineEntry]:
    """The notes on the order (one query)."""
    return [
        TimelineEntry(
            when=note.created_at,
            subject="note",
            action="added",
            actor_kind=note.actor_kind,
            actor_name=note.actor_name,
            reason="",
            correlation_id=note.correlation_id,
            changes=(),
            history_id=note.pk,
            kind=TimelineKind.NOTE,
            detail=note.text,
        )
        for note in OrderNote.objects.filter(order_id=order.pk)
    ]


# What the outbox events about an order's releases say on its timeline.
RELEASE_EVENT_ACTIONS = {
    "release.accepted": "accepted by the warehouse",
    "release.rejected": "rejected by the warehouse",
    "release.completed": "completed by the warehouse",
    "release.not_delivered": "not delivered; waits to be sent again",
    "release.resent": "sent again",
    "release.asked": "asked again for the warehouse's answer",
    "release.unanswered": "not answered; left to a person",
}


def warehouse_entries(order: Order) -> list[TimelineEntry]:
    """Calls to warehouse systems and release events for the order (two queries)."""
    calls = WarehouseCall.objects.filter(release__order_id=order.pk).select_related(
        "warehouse", "release"
    )
    entries = [
        TimelineEntry(
            when=call.created_at,
            subject=f"release to {call.warehouse.code}",
            action=f"call {call.get_outcome_display().lower()}",
            actor_kind="system",
            actor_name="warehouse-dispatch",
            reason=explain(call.error) if call.error else "",
            correlation_id=call.correlation_id,
            changes=(),
            history_id=call.pk,
            kind=TimelineKind.WAREHOUSE_CALL,
            detail=f"{call.method} {call.url} -> {call.status_code or 'no answer'} in "
            f"{call.latency_ms} ms (attempt {call.attempt}, release {call.release.release_id})",
            technical=call.error,
        )
        for call in calls
    ]
    events = OutboxEvent.objects.filter(
        aggregate_type="order",
        aggregate_id=str(order.pk),
        event_type__in=list(RELEASE_EVENT_ACTIONS),
    ).order_by("id")
    for event in events:
        payload = event.payload
        actor = payload.get("actor") or {}
        detail = f"release {payload.get('release_id')}"
        if payload.get("event_id"):
            detail += f", warehouse event {payload['event_id']}"
        short = payload.get("short")
        error = payload.get("error") or ""
        entries.append(
            TimelineEntry(
                when=event.created_at,
                subject=f"release to {payload.get('warehouse', '?')}",
                action=RELEASE_EVENT_ACTIONS[event.event_type],
                actor_kind=actor.get("kind", "system"),
                actor_name=actor.get("name", ""),
                reason=payload.get("reason") or (explain(error) if error else ""),
                correlation_id=event.correlation_id,
                changes=tuple(
                    FieldChange("short", f"{item} short", None, missing)
                    for item, missing in (short or {}).items()
                ),
                history_id=event.pk,
                kind=TimelineKind.RELEASE_EVENT,
                detail=detail,
                technical=error,
            )
        )
    return entries


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def _entries(records, model, subject_of) -> list[TimelineEntry]:
    fields = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in TIMELINE_IGNORED_FIELDS and f.name != "order"
    ]
    previous: dict[int, object] = {}
    entries = []
    for record in records:
        before = previous.get(record.id)
        changes = []
        if record.history_type == "~" and before is not None:
            for f in fields:
                old, new = getattr(before, f.attname), getattr(record, f.attname)
                if old != new:
                    changes.append(
                        FieldChange(f.name, str(f.verbose_name), _shown(f, old), _shown(f, new))
                    )
            if not changes:
                previous[record.id] = record
                continue
        elif record.history_type == "+":
            changes = [
                FieldChange(
                    f.name, str(f.verbose_name), None, _shown(f, getattr(record, f.attname))
                )
                for f in fields
                if getattr(record, f.attname) not in (None, "")
                and f.name in {"status", "quantity", "source"}
            ]
        previous[record.id] = record
        entries.append(
            TimelineEntry(
                when=record.history_date,
                subject=subject_of(record),
                action=_ACTIONS[record.history_type],
                actor_kind=record.actor_kind,
                actor_name=record.actor_name,
                reason=record.history_change_reason or "",
                correlation_id=record.correlation_id,
                changes=tuple(changes),
                history_id=record.history_id,
            )
        )
    return entries


def _with_assignee_names(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """The entries with each change of assignee told by name instead of a user id (one
    more query, only for an order that was ever assigned)."""
    ids = {
        value
        for entry in entries
        for change in entry.changes
        if change.field == "assignee"
        for value in (change.old, change.new)
        if value is not None
    }
    if not ids:
        return entries
    names = {user.pk: person_name(user) for user in get_user_model().objects.filter(pk__in=ids)}

    def named(change: FieldChange) -> FieldChange:
        if change.field != "assignee":
            return change
        return replace(change, old=names.get(change.old), new=names.get(change.new))

    return [
        replace(entry, changes=tuple(named(change) for change in entry.changes))
        if any(change.field == "assignee" for change in entry.changes)
        else entry
        for entry in entries
    ]


def _shown(field, value):
    if value is not None and field.choices:
        return dict(field.flatchoices).get(value, value)
    return value
