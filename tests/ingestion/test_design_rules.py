"""The upstream change rules of DOMAIN.md, one test per rule, plus validation, dead
letters and replays of design events."""

import datetime

import pytest

from catalog import services as catalog_services
from catalog.choices import ItemLifecycle
from catalog.models import Kit
from oms import audit
from oms.jobs import JobCounts
from orders import gates, ingestion, services
from orders.choices import DesignOutcome, OrderKind, OrderStatus
from orders.ingestion.batch import process_batch
from orders.ingestion.schema import schema_problems
from orders.models import DesignEvent, Order
from tests import factories
from tests.concurrency import at_once
from tests.factories import SETUP, ItemFactory, ProjectFactory
from tests.ingestion.drf_reference import reference, values_of

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.UTC)
READY = {
    "permits_approved_on": datetime.date(2026, 3, 1),
    "notice_to_proceed_on": datetime.date(2026, 4, 1),
    "construction_start_on": datetime.date(2026, 5, 1),
}
_ids = iter(range(1, 10_000))


@pytest.fixture
def project():
    return ProjectFactory(**READY)


@pytest.fixture
def items():
    return {code: ItemFactory(code=code) for code in ("RRU-A", "ANT-B", "JMP-C", "MNT-D")}


def payload(project, bom, *, kind="design_approved", minutes=0, event_id=None, **extra):
    body = {
        "event_id": event_id or f"evt-{next(_ids)}",
        "type": kind,
        "project_id": project.external_id,
        "order_type": "radio",
        "occurred_at": (T0 + datetime.timedelta(minutes=minutes)).isoformat(),
        "need_by": "2026-12-15",
        "national_priority": 2,
        "items": [{"item": code, "quantity": q} for code, q in bom.items()],
        **extra,
    }
    if not bom:
        body.pop("items")
    return body


def ingest(body) -> DesignEvent:
    received = ingestion.receive(body, received_from="tests")
    return ingestion.process(received.event)


def quantities(order) -> dict[str, int]:
    return {line.item.code: line.quantity for line in order.lines.select_related("item")}


# --- The rules --------------------------------------------------------------------------


def test_no_order_yet_creates_a_draft_order(project, items):
    event = ingest(payload(project, {"RRU-A": 2, "ANT-B": 3}, event_id="evt-new"))
    assert (event.status, event.outcome) == ("processed", DesignOutcome.CREATED)
    order = event.order
    assert (order.status, order.revision, order.national_priority) == ("draft", 1, 2)
    assert quantities(order) == {"RRU-A": 2, "ANT-B": 3}
    record = order.history.get()
    assert (record.actor_kind, record.actor_name) == ("system", "engineering-system")
    assert record.correlation_id == "evt-new" and "evt-new" in record.history_change_reason


def test_same_design_again_is_unchanged(project, items):
    first = ingest(payload(project, {"RRU-A": 2}))
    again = ingest(payload(project, {"RRU-A": 2}, minutes=5))
    assert again.outcome == DesignOutcome.UNCHANGED
    assert again.order == first.order
    assert first.order.revisions.count() == 1


def test_draft_order_is_revised_in_place_with_only_the_delta(project, items):
    order = ingest(payload(project, {"RRU-A": 2, "ANT-B": 3, "JMP-C": 1})).order
    event = ingest(
        payload(project, {"RRU-A": 4, "ANT-B": 3, "MNT-D": 1}, minutes=5, need_by="2027-01-10")
    )
    assert event.outcome == DesignOutcome.REVISED and event.order == order
    order.refresh_from_db()
    assert (order.status, order.revision) == ("draft", 2)
    assert quantities(order) == {"RRU-A": 4, "ANT-B": 3, "MNT-D": 1}
    delta = order.revisions.get(number=2).delta
    assert delta["lines"] == {
        "added": [{"item": "MNT-D", "quantity": 1}],
        "removed": [{"item": "JMP-C", "quantity": 1}],
        "changed": [{"item": "RRU-A", "quantity": [2, 4]}],
    }
    assert delta["header"] == {"need_by": ["2026-12-15", "2027-01-10"]}


def test_coordinator_lines_survive_an_upstream_revision(project, items, coordinator_actor):
    order = ingest(payload(project, {"RRU-A": 2})).order
    services.order_edit_lines(
        order=order,
        edits=services.LineEdits(add=[(items["MNT-D"], 1)]),
        actor=coordinator_actor,
    )
    ingest(payload(project, {"RRU-A": 3}, minutes=5))
    assert quantities(Order.objects.get(pk=order.pk)) == {"RRU-A": 3, "MNT-D": 1}


def test_approved_order_returns_to_draft_and_is_revised(project, items):
    order = ingest(payload(project, {"RRU-A": 2})).order
    services.order_approve(order=order, actor=SETUP)
    event = ingest(payload(project, {"RRU-A": 5}, minutes=5))
    assert event.outcome == DesignOutcome.RETURNED_TO_DRAFT
    order.refresh_from_db()
    assert (order.status, order.reason_code, order.revision) == ("draft", "upstream_change", 2)
    assert quantities(order) == {"RRU-A": 5}


def test_allocated_order_releases_its_stock_and_returns_to_draft(project, items):
    order = ingest(payload(project, {"RRU-A": 2})).order
    warehouse = factories.WarehouseFactory()
    factories.stock(warehouse, items["RRU-A"], 10)
    services.order_approve(order=order, actor=SETUP)
    services.order_allocate(order=Order.objects.get(pk=order.pk), warehouse=warehouse, actor=SETUP)
    event = ingest(payload(project, {"RRU-A": 3}, minutes=5))
    assert event.outcome == DesignOutcome.RETURNED_TO_DRAFT
    level = warehouse.stock.get(item=items["RRU-A"])
    assert (level.on_hand, level.reserved) == (10, 0)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def _released(project, items, bom):
    order = ingest(payload(project, bom)).order
    warehouse = factories.WarehouseFactory()
    for code, quantity in bom.items():
        factories.stock(warehouse, items[code], quantity)
    order = services.order_approve(order=order, actor=SETUP)
    order = services.order_allocate(order=order, warehouse=warehouse, actor=SETUP)
    return services.order_release(order=order, actor=SETUP)


def test_released_order_gets_a_delta_order_and_reductions_are_flagged(project, items):
    order = _released(project, items, {"RRU-A": 2, "ANT-B": 3})
    event = ingest(payload(project, {"RRU-A": 5, "ANT-B": 1, "JMP-C": 2}, minutes=5))
    assert event.outcome == DesignOutcome.DELTA_ORDER
    delta = event.order
    assert (delta.kind, delta.parent, delta.status) == (OrderKind.DELTA, order, "draft")
    assert quantities(delta) == {"RRU-A": 3, "JMP-C": 2}
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED
    assert "ANT-B 3 -> 1" in order.upstream_flag


def test_only_reductions_on_a_released_order_are_flagged(project, items):
    order = _released(project, items, {"RRU-A": 2})
    event = ingest(payload(project, {"RRU-A": 1}, minutes=5))
    assert (event.outcome, event.order) == (DesignOutcome.FLAGGED, order)
    assert Order.objects.filter(parent=order).count() == 0


def ingest_in_batch(body) -> DesignEvent:
    received = ingestion.receive(body, received_from="tests")
    process_batch([received.event], JobCounts())
    return DesignEvent.objects.get(pk=received.event.pk)


# After release, each path in: the per-event rules, and a batch (the API, the task and
# ingest_events) that hands an order past DRAFT to the same rules.
SEND = pytest.mark.parametrize("send", [ingest, ingest_in_batch], ids=["one", "batch"])


def _children(order) -> list[dict[str, int]]:
    return [quantities(child) for child in Order.objects.filter(parent=order).order_by("pk")]


@SEND
def test_restoring_a_flagged_reduction_orders_nothing_more(project, items, send):
    order = _released(project, items, {"RRU-A": 2})
    assert send(payload(project, {"RRU-A": 1}, minutes=5)).outcome == DesignOutcome.FLAGGED
    order.refresh_from_db()
    assert "RRU-A 2 -> 1" in order.upstream_flag

    event = send(payload(project, {"RRU-A": 2}, minutes=10, event_id="evt-restore"))

    assert (event.outcome, event.order) == (DesignOutcome.UNCHANGED, order)
    assert _children(order) == []
    order.refresh_from_db()
    assert order.upstream_flag == ""
    record = order.history.first()
    assert "evt-restore" in record.history_change_reason
    assert "no longer applies" in record.history_change_reason


@SEND
def test_a_reduction_then_more_than_before_orders_only_what_is_beyond_the_order(
    project, items, send
):
    order = _released(project, items, {"RRU-A": 2, "ANT-B": 3})
    send(payload(project, {"RRU-A": 1, "ANT-B": 3}, minutes=5))

    event = send(payload(project, {"RRU-A": 3, "ANT-B": 3}, minutes=10))

    assert (event.outcome, event.order.parent) == (DesignOutcome.DELTA_ORDER, order)
    assert _children(order) == [{"RRU-A": 1}]
    order.refresh_from_db()
    assert order.upstream_flag == ""


@SEND
def test_a_partly_restored_reduction_replaces_its_flag(project, items, send):
    order = _released(project, items, {"RRU-A": 3})
    send(payload(project, {"RRU-A": 1}, minutes=5))

    event = send(payload(project, {"RRU-A": 2}, minutes=10, event_id="evt-partly"))

    assert event.outcome == DesignOutcome.FLAGGED
    order.refresh_from_db()
    assert order.upstream_flag.splitlines() == [
        "Upstream reduced after released (event evt-partly): RRU-A 3 -> 2"
    ]
    assert _children(order) == []


@SEND
def test_a_header_change_after_a_reduction_does_not_flag_it_again(project, items, send):
    order = _released(project, items, {"RRU-A": 2})
    send(payload(project, {"RRU-A": 1}, minutes=5))
    order.refresh_from_db()
    flag = order.upstream_flag

    event = send(payload(project, {"RRU-A": 1}, minutes=10, national_priority=1))

    assert event.outcome == DesignOutcome.UNCHANGED
    order.refresh_from_db()
    assert order.upstream_flag == flag


@SEND
def test_an_open_delta_order_counts_as_ordered(project, items, send):
    order = _released(project, items, {"RRU-A": 2})
    first = send(payload(project, {"RRU-A": 3}, minutes=5)).order

    event = send(payload(project, {"RRU-A": 4}, minutes=10))

    assert (event.outcome, event.order.parent) == (DesignOutcome.DELTA_ORDER, order)
    assert Order.objects.get(pk=first.pk).status == OrderStatus.DRAFT
    assert _children(order) == [{"RRU-A": 1}, {"RRU-A": 1}]


@SEND
def test_a_cancelled_delta_order_counts_as_not_ordered(project, items, send):
    order = _released(project, items, {"RRU-A": 2})
    first = send(payload(project, {"RRU-A": 3}, minutes=5)).order
    services.order_cancel(
        order=first, actor=SETUP, reason_code="other", reason_text="Ordered by phone."
    )

    event = send(payload(project, {"RRU-A": 4}, minutes=10))

    assert (event.outcome, event.order.parent) == (DesignOutcome.DELTA_ORDER, order)
    assert quantities(event.order) == {"RRU-A": 2}


@SEND
def test_a_reduction_is_measured_against_the_open_delta_orders_too(project, items, send):
    order = _released(project, items, {"RRU-A": 2})
    send(payload(project, {"RRU-A": 3}, minutes=5))

    event = send(payload(project, {"RRU-A": 2}, minutes=10))

    assert event.outcome == DesignOutcome.FLAGGED
    order.refresh_from_db()
    assert "RRU-A 3 -> 2" in order.upstream_flag


def test_a_closed_order_restored_after_a_reduction_gets_no_supplemental_order(project, items):
    order = _released(project, items, {"RRU-A": 2})
    services.order_complete(order=order, actor=SETUP)
    ingest(payload(project, {"RRU-A": 1}, minutes=5))

    event = ingest(payload(project, {"RRU-A": 2}, minutes=10))

    assert event.outcome == DesignOutcome.UNCHANGED
    assert _children(order) == []


def test_closed_order_gets_a_supplemental_order_with_only_what_is_new(project, items):
    order = _released(project, items, {"RRU-A": 2, "ANT-B": 3})
    order = services.order_complete(order=order, actor=SETUP)
    event = ingest(payload(project, {"RRU-A": 2, "ANT-B": 4, "MNT-D": 1}, minutes=5))
    assert event.outcome == DesignOutcome.SUPPLEMENTAL_ORDER
    supplemental = event.order
    assert (supplemental.kind, supplemental.parent) == (OrderKind.SUPPLEMENTAL, order)
    assert quantities(supplemental) == {"ANT-B": 1, "MNT-D": 1}


def test_design_cancelled_cancels_an_order_not_yet_released(project, items):
    order = ingest(payload(project, {"RRU-A": 2})).order
    services.order_approve(order=order, actor=SETUP)
    event = ingest(payload(project, {}, kind="design_cancelled", minutes=5))
    assert event.outcome == DesignOutcome.CANCELLED
    order.refresh_from_db()
    assert (order.status, order.reason_code) == ("cancelled", "upstream_cancelled")


def test_design_cancelled_flags_a_released_order(project, items):
    order = _released(project, items, {"RRU-A": 2})
    event = ingest(payload(project, {}, kind="design_cancelled", minutes=5))
    assert event.outcome == DesignOutcome.FLAGGED
    order.refresh_from_db()
    assert order.status == "released" and "cancelled upstream" in order.upstream_flag


def test_design_cancelled_after_release_cancels_open_follow_ups_and_names_them(project, items):
    # Given a released order with two delta orders: one still a draft, one released
    order = _released(project, items, {"RRU-A": 2})
    draft = ingest(payload(project, {"RRU-A": 3}, minutes=5)).order
    factories.stock(factories.WarehouseFactory(), items["RRU-A"], 1)
    released = ingest(payload(project, {"RRU-A": 4}, minutes=10)).order
    released = services.order_approve(order=released, actor=SETUP)
    warehouse = factories.WarehouseFactory()
    factories.stock(warehouse, items["RRU-A"], 1)
    released = services.order_allocate(order=released, warehouse=warehouse, actor=SETUP)
    released = services.order_release(order=released, actor=SETUP)

    event = ingest(payload(project, {}, kind="design_cancelled", minutes=15, event_id="evt-x"))

    assert event.outcome == DesignOutcome.FLAGGED
    draft.refresh_from_db()
    assert (draft.status, draft.reason_code) == ("cancelled", "upstream_cancelled")
    order.refresh_from_db()
    assert f"Follow-up orders cancelled: {draft.number}." in order.upstream_flag
    assert f"already released: {released.number} (released)." in order.upstream_flag
    released.refresh_from_db()
    assert released.status == "released"
    assert "Design cancelled upstream after this order was released" in released.upstream_flag


def test_schedule_update_revises_the_header_only(project, items):
    order = ingest(payload(project, {"RRU-A": 2})).order
    event = ingest(
        payload(
            project,
            {},
            kind="schedule_updated",
            minutes=5,
            need_by="2027-02-01",
            national_priority=1,
        )
    )
    assert event.outcome == DesignOutcome.REVISED
    order.refresh_from_db()
    assert (order.need_by, order.national_priority) == (datetime.date(2027, 2, 1), 1)
    assert quantities(order) == {"RRU-A": 2}


# --- Replays and order of arrival -------------------------------------------------------


def test_the_same_event_three_times_has_one_effect(project, items):
    body = payload(project, {"RRU-A": 2}, event_id="evt-once")
    results = [ingestion.receive(body, received_from="tests") for _ in range(3)]
    assert [r.duplicate for r in results] == [False, True, True]
    for received in results:
        ingestion.process(received.event)
    assert Order.objects.count() == 1
    assert DesignEvent.objects.get(event_id="evt-once").outcome == DesignOutcome.CREATED


def test_an_older_event_is_stale_and_not_applied(project, items):
    order = ingest(payload(project, {"RRU-A": 2}, minutes=10)).order
    event = ingest(payload(project, {"RRU-A": 9}, minutes=5))
    assert event.outcome == DesignOutcome.STALE
    assert quantities(Order.objects.get(pk=order.pk)) == {"RRU-A": 2}


# --- Validation and dead letters --------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"project_id": "PRJ-NOPE"}, "unknown_project", "project_id"),
        ({"items": [{"item": "NOPE", "quantity": 1}]}, "unknown_item", "items[0].item"),
        ({"items": [{"item": "RRU-A", "quantity": 0}]}, "min_value", "items[0].quantity"),
        ({"type": "design_guessed"}, "invalid_choice", "type"),
        ({"occurred_at": "yesterday"}, "invalid", "occurred_at"),
        ({"need_by": None}, "null", "need_by"),
        ({"kits": [{"kit": "KIT-NOPE", "quantity": 1}]}, "unknown_kit", "kits[0].kit"),
    ],
)
def test_invalid_events_are_dead_letters_with_their_problems(project, items, change, code, field):
    event = ingest({**payload(project, {"RRU-A": 1}), **change})
    assert (event.status, event.outcome) == ("invalid", DesignOutcome.INVALID)
    assert {"code": code, "field": field} == {k: event.problems[0][k] for k in ("code", "field")}, (
        event.problems
    )
    assert Order.objects.count() == 0


def test_missing_fields_are_each_listed(project):
    event = ingest({"event_id": "evt-bare"})
    fields = {p["field"] for p in event.problems}
    assert {"type", "project_id", "order_type", "occurred_at"} <= fields


def test_a_discontinued_item_is_invalid_and_a_replaced_one_maps_to_its_successor(project):
    successor = ItemFactory(code="ANT-NEW")
    ItemFactory(code="ANT-OLD", lifecycle=ItemLifecycle.REPLACED, replaced_by=successor)
    ItemFactory(code="TX-OLD", lifecycle=ItemLifecycle.DISCONTINUED)
    invalid = ingest(payload(project, {"TX-OLD": 1}))
    assert invalid.problems[0]["code"] == "item_inactive"
    order = ingest(payload(project, {"ANT-OLD": 2}, minutes=1)).order
    line = order.lines.get()
    assert (line.item.code, line.replaces_item.code) == ("ANT-NEW", "ANT-OLD")


def test_a_kit_expands_through_the_version_effective_at_the_event(project, items):
    with audit.acting(SETUP):
        kit = Kit.objects.create(code="KIT-S", name="Sector")
    v1 = catalog_services.kit_version_draft(
        kit=kit, effective_from=datetime.date(2026, 1, 1), actor=SETUP
    )
    catalog_services.kit_version_set_components(
        version=v1, components=[(items["JMP-C"], 6)], actor=SETUP
    )
    catalog_services.kit_version_publish(version=v1, actor=SETUP)
    v2 = catalog_services.kit_version_draft(
        kit=kit, effective_from=datetime.date(2026, 12, 1), actor=SETUP
    )
    catalog_services.kit_version_set_components(
        version=v2, components=[(items["JMP-C"], 8)], actor=SETUP
    )
    catalog_services.kit_version_publish(version=v2, actor=SETUP)
    body = payload(project, {"JMP-C": 1}, kits=[{"kit": "KIT-S", "quantity": 2}])
    order = ingest(body).order  # occurred 2026-11-01: version 1 applies
    line = order.lines.get()
    assert (line.quantity, line.source) == (13, "upstream")


def _kit(code, item, quantity) -> Kit:
    with audit.acting(SETUP):
        kit = Kit.objects.create(code=code, name=code)
    version = catalog_services.kit_version_draft(
        kit=kit, effective_from=datetime.date(2026, 1, 1), actor=SETUP
    )
    catalog_services.kit_version_set_components(
        version=version, components=[(item, quantity)], actor=SETUP
    )
    catalog_services.kit_version_publish(version=version, actor=SETUP)
    return kit


@SEND
def test_a_draft_line_now_coming_with_another_kit_follows_the_design_at_the_same_quantity(
    project, items, send
):
    _kit("KIT-S", items["JMP-C"], 6)
    kit_t = _kit("KIT-T", items["JMP-C"], 6)
    order = send(payload(project, {"RRU-A": 1}, kits=[{"kit": "KIT-S", "quantity": 1}])).order

    event = send(payload(project, {"RRU-A": 2}, minutes=5, kits=[{"kit": "KIT-T", "quantity": 1}]))

    assert (event.outcome, event.order) == (DesignOutcome.REVISED, order)
    jumper = order.lines.get(item=items["JMP-C"])
    assert (jumper.quantity, jumper.source, jumper.kit) == (6, "kit", kit_t)
    assert order.revisions.order_by("number").last().delta["lines"] == {
        "added": [],
        "removed": [],
        "changed": [{"item": "RRU-A", "quantity": [1, 2]}],
    }


def test_a_project_before_the_creation_milestone_is_refused(items):
    early = ProjectFactory(design_complete_on=None)
    event = ingest(payload(early, {"RRU-A": 1}))
    assert event.problems[0]["code"] == "milestone_not_reached"


def test_an_order_before_the_release_milestone_is_gated_until_the_project_gets_there(items):
    project = ProjectFactory()  # design complete, construction not started
    order = ingest(payload(project, {"RRU-A": 1})).order
    assert order.gated and order.gate_reason == "Waiting for construction start"
    project.construction_start_on = datetime.date(2026, 6, 1)
    with audit.acting(SETUP):
        project.save()
    assert gates.lift_gates([project.pk], SETUP) == 1
    order.refresh_from_db()
    assert not order.gated


def test_a_corrected_event_is_processed_and_the_original_kept(project, items, coordinator_actor):
    body = payload(project, {"NOPE": 1}, event_id="evt-fix")
    event = ingest(body)
    assert event.status == "invalid"
    fixed = {**body, "items": [{"item": "RRU-A", "quantity": 1}]}
    event = ingestion.process(
        ingestion.correct(event=event, payload=fixed, actor=coordinator_actor)
    )
    assert (event.status, event.outcome) == ("processed", DesignOutcome.CREATED)
    assert event.payload == body and event.corrected_payload == fixed
    assert ingestion.process(event).order == event.order  # again: no effect
    assert Order.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_event_processed_twice_at_once_has_one_effect(items):
    project = ProjectFactory(**READY)
    event = ingestion.receive(payload(project, {"RRU-A": 2}), received_from="tests").event
    outcomes = at_once(*[lambda: ingestion.process(DesignEvent.objects.get(pk=event.pk))] * 2)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Order.objects.count() == 1
    assert DesignEvent.objects.get(pk=event.pk).attempts == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_events_of_one_stream_at_once_make_one_order(items):
    project = ProjectFactory(**READY)
    events = [
        ingestion.receive(payload(project, {"RRU-A": n}, minutes=n), received_from="t").event
        for n in (1, 2)
    ]
    done = at_once(*[lambda event=event: ingestion.process(event) for event in events])
    assert not [o for o in done if isinstance(o, Exception)], done
    assert Order.objects.count() == 1
    outcomes = sorted(DesignEvent.objects.values_list("outcome", flat=True))
    assert outcomes in (["created", "revised"], ["created", "stale"])


def test_ingest_events_backfills_a_file_and_counts(project, items, tmp_path, capsys):
    import json

    from django.core.management import call_command

    from oms.models import JobRun

    lines = [
        payload(project, {"RRU-A": 2}, event_id="f-1"),
        payload(project, {"RRU-A": 3}, event_id="f-2", minutes=1),
        payload(project, {"NOPE": 1}, event_id="f-3", minutes=2),
        payload(project, {"RRU-A": 2}, event_id="f-1"),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n{broken\n")
    call_command("ingest_events", str(path), no_progress=True)
    out = capsys.readouterr().out
    assert "created 1, modified 1, skipped 1, failed 2" in out
    assert "line 5: not JSON" in out and "f-3" in out
    run = JobRun.objects.get(name="ingest_events")
    assert (run.status, run.created, run.failed) == ("succeeded", 1, 2)


@pytest.mark.parametrize(
    "lines",
    [
        [{"item": "RRU-A", "quantity": 2}, {"item": "ANT-B", "quantity": 1_000_000}],
        [{"item": "RRU-A", "quantity": 2, "note": "extra keys are ignored"}],
        [{"item": "RRU-A", "quantity": "3"}],
        [{"item": " RRU-A", "quantity": 2}],
    ],
)
def test_the_schema_accepts_the_lines_the_api_schema_accepted_with_the_same_values(project, lines):
    body = payload(project, {"RRU-A": 1}, items=lines)
    expected, problems = reference(body)
    assert problems == []
    values, problems = schema_problems(body)
    assert problems == [] and values_of(values) == expected


@pytest.mark.parametrize(
    "change",
    [
        {"occurred_at": "yesterday"},
        {"type": "design_rejected"},
        {"national_priority": 9, "need_by": "soon"},
        {"items": [{"item": "RRU-A", "quantity": 0}]},
        {"items": [{"item": "RRU-A"}], "kits": "none"},
        {"items": []},
    ],
)
def test_the_schema_finds_what_the_api_schema_found_and_keeps_nothing(project, change):
    bad = {**payload(project, {"RRU-A": 1}), **change}
    values, problems = schema_problems(bad)
    assert values is None
    assert problems and problems == reference(bad)[1]
    good = payload(project, {"RRU-A": 1})
    values, problems = schema_problems(good)
    assert problems == [] and values_of(values) == reference(good)[0]


def test_a_line_dropped_after_stock_moved_for_it_goes_and_the_ledger_keeps_its_order(
    project, items
):
    from warehouse.ledger.models import Allocation, StockMovement
    from warehouse.ledger.reconcile import reconcile_stock

    order = ingest(payload(project, {"RRU-A": 2, "ANT-B": 1})).order
    warehouse = factories.WarehouseFactory()
    factories.stock(warehouse, items["RRU-A"], 10)
    factories.stock(warehouse, items["ANT-B"], 10)
    services.order_approve(order=order, actor=SETUP)
    services.order_allocate(order=Order.objects.get(pk=order.pk), warehouse=warehouse, actor=SETUP)
    dropped = order.lines.get(item=items["RRU-A"])

    event = ingest(payload(project, {"ANT-B": 3}, minutes=5))

    assert event.outcome == DesignOutcome.RETURNED_TO_DRAFT
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    assert {line.item.code: line.quantity for line in order.lines.all()} == {"ANT-B": 3}
    assert not Allocation.objects.filter(order_line_id=dropped.pk).exists()
    moved = StockMovement.objects.filter(item=items["RRU-A"], kind__in=["reserve", "unreserve"])
    assert {(m.kind, m.order_id, m.order_line_id) for m in moved} == {
        ("reserve", order.pk, None),
        ("unreserve", order.pk, None),
    }
    assert reconcile_stock().ok
