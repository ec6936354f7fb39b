"""Design events processed in batches: the set-based path gives the same results as
the per-event rules, in a number of queries that does not grow with the batch."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oms.jobs import JobCounts
from oms.models import OutboxEvent
from orders import ingestion, services
from orders.choices import DesignOutcome
from orders.ingestion.batch import process_batch
from orders.models import DesignEvent, Order, OrderLine
from tests.factories import SETUP, ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.UTC)
READY = {
    "permits_approved_on": datetime.date(2026, 3, 1),
    "notice_to_proceed_on": datetime.date(2026, 4, 1),
    "construction_start_on": datetime.date(2026, 5, 1),
}


@pytest.fixture
def items():
    return [ItemFactory(code=f"IT-{n}") for n in range(6)]


def event(project, n, bom, *, kind="design_approved", minutes=0, **extra):
    return {
        "event_id": f"{project.external_id}-{n}",
        "type": kind,
        "project_id": project.external_id,
        "order_type": "radio",
        "occurred_at": (T0 + datetime.timedelta(minutes=minutes)).isoformat(),
        "need_by": "2026-12-15",
        "items": [{"item": code, "quantity": q} for code, q in bom.items()],
        **extra,
    }


def batch(payloads) -> JobCounts:
    received = [ingestion.receive(p, received_from="tests").event for p in payloads]
    counts = JobCounts()
    process_batch(received, counts)
    return counts


def quantities(order):
    return {line.item.code: line.quantity for line in order.lines.select_related("item")}


def test_new_orders_in_a_batch_carry_lines_history_revision_and_events(items):
    projects = [ProjectFactory(**READY) for _ in range(3)]
    counts = batch([event(p, 1, {"IT-0": 2, "IT-1": 3}) for p in projects])
    assert (counts.created, counts.failed) == (3, 0)
    for project in projects:
        design = DesignEvent.objects.get(event_id=f"{project.external_id}-1")
        order = design.order
        assert (design.status, design.outcome) == ("processed", DesignOutcome.CREATED)
        assert (order.status, order.revision, order.gated) == ("draft", 1, False)
        assert quantities(order) == {"IT-0": 2, "IT-1": 3}
        record = order.history.get()
        assert (record.history_type, record.actor_name, record.correlation_id) == (
            "+",
            "engineering-system",
            design.event_id,
        )
        assert record.history_change_reason == f"design event {design.event_id}"
        line_records = OrderLine.history.filter(order_id=order.pk)
        assert {r.correlation_id for r in line_records} == {design.event_id}
        assert order.revisions.get().delta["lines"]["added"][0] == {"item": "IT-0", "quantity": 2}
        assert OutboxEvent.objects.filter(event_type="order.created", aggregate_id=str(order.pk))
        assert design.history.first().outcome == DesignOutcome.CREATED


def test_drafts_revised_in_a_batch_record_only_the_delta(items):
    projects = [ProjectFactory(**READY) for _ in range(2)]
    batch([event(p, 1, {"IT-0": 2, "IT-1": 3, "IT-2": 1}) for p in projects])
    counts = batch(
        [
            event(
                p,
                2,
                {"IT-0": 5, "IT-1": 3, "IT-3": 1},
                kind="bom_revised",
                minutes=5,
                need_by="2027-01-10",
            )
            for p in projects
        ]
    )
    assert counts.modified == 2
    for project in projects:
        order = Order.objects.get(project=project)
        assert (order.revision, order.version, order.need_by) == (2, 2, datetime.date(2027, 1, 10))
        assert quantities(order) == {"IT-0": 5, "IT-1": 3, "IT-3": 1}
        delta = order.revisions.get(number=2).delta
        assert delta["lines"] == {
            "added": [{"item": "IT-3", "quantity": 1}],
            "removed": [{"item": "IT-2", "quantity": 1}],
            "changed": [{"item": "IT-0", "quantity": [2, 5]}],
        }
        assert delta["header"] == {"need_by": ["2026-12-15", "2027-01-10"]}
        removed = OrderLine.history.get(order_id=order.pk, history_type="-")
        assert removed.correlation_id == f"{project.external_id}-2"


def test_a_batch_mixes_set_based_and_per_event_cases(items):
    new, approved, twice = (ProjectFactory(**READY) for _ in range(3))
    batch([event(approved, 1, {"IT-0": 1}), event(twice, 1, {"IT-0": 1})])
    order = Order.objects.get(project=approved)
    services.order_approve(order=order, actor=SETUP)
    counts = batch(
        [
            event(new, 1, {"IT-1": 1}),
            event(approved, 2, {"IT-0": 4}, minutes=5),
            event(twice, 2, {"IT-0": 2}, minutes=5),
            event(twice, 3, {"IT-0": 3}, minutes=6),
            event(new, 9, {"NOPE": 1}, minutes=7, project_id="PRJ-NOPE"),
        ]
    )
    outcomes = dict(DesignEvent.objects.values_list("event_id", "outcome"))
    assert outcomes[f"{new.external_id}-1"] == DesignOutcome.CREATED
    assert outcomes[f"{approved.external_id}-2"] == DesignOutcome.RETURNED_TO_DRAFT
    assert outcomes[f"{twice.external_id}-2"] == DesignOutcome.REVISED
    assert outcomes[f"{twice.external_id}-3"] == DesignOutcome.REVISED
    assert outcomes[f"{new.external_id}-9"] == DesignOutcome.INVALID
    assert quantities(Order.objects.get(project=twice)) == {"IT-0": 3}
    assert (counts.created, counts.modified, counts.failed) == (1, 3, 1)


def test_a_batch_processed_again_changes_nothing(items):
    project = ProjectFactory(**READY)
    received = ingestion.receive(event(project, 1, {"IT-0": 1}), received_from="t").event
    for _ in range(2):
        counts = JobCounts()
        process_batch([received], counts)
    assert counts.skipped == 1 and Order.objects.count() == 1


def _queries(payloads) -> int:
    received = [ingestion.receive(p, received_from="tests").event for p in payloads]
    with CaptureQueriesContext(connection) as captured:
        process_batch(received, JobCounts())
    return len(captured)


def test_queries_per_batch_do_not_grow_with_the_batch(items):
    batch([event(ProjectFactory(**READY), 1, {"IT-0": 1})])  # the order counter exists
    small = [ProjectFactory(**READY) for _ in range(2)]
    large = [ProjectFactory(**READY) for _ in range(8)]
    bom = {f"IT-{n}": n + 1 for n in range(5)}
    new_small = _queries([event(p, 1, bom) for p in small])
    new_large = _queries([event(p, 1, bom) for p in large])
    assert new_small == new_large
    # Every revision changes a line, adds one and removes one.
    revised = {**{k: v for k, v in bom.items() if k != "IT-4"}, "IT-0": 9, "IT-5": 1}
    rev_small = _queries([event(p, 2, revised, kind="bom_revised", minutes=5) for p in small])
    rev_large = _queries([event(p, 2, revised, kind="bom_revised", minutes=5) for p in large])
    assert rev_small == rev_large


def test_a_batch_drops_a_line_stock_moved_for_and_keeps_a_shipped_one_flagged(items):
    from tests import factories
    from warehouse.ledger.models import StockMovement

    project = ProjectFactory(**READY)
    batch([event(project, 1, {"IT-0": 2, "IT-1": 1})])
    order = Order.objects.get(project=project)
    warehouse = factories.WarehouseFactory()
    for item in items[:2]:
        factories.stock(warehouse, item, 10)
    order = services.order_approve(order=order, actor=SETUP)
    order = services.order_allocate(order=order, warehouse=warehouse, actor=SETUP)
    services.order_reject(
        order=order, actor=SETUP, reason_code="coordinator_rejected", reason_text="recount"
    )
    # IT-1 was shipped once (as on an order reopened after a return).
    OrderLine.objects.filter(order=order, item__code="IT-1").update(released_quantity=1)

    counts = batch([event(project, 2, {"IT-2": 4}, kind="bom_revised", minutes=5)])

    assert counts.modified == 1
    order.refresh_from_db()
    assert quantities(order) == {"IT-1": 1, "IT-2": 4}
    assert "Upstream removed IT-1, but 1 were shipped" in order.upstream_flag
    assert order.revisions.get(number=2).delta["lines"]["removed"] == [
        {"item": "IT-0", "quantity": 2}
    ]
    ledger = StockMovement.objects.filter(item__code="IT-0")
    assert {(m.order_id, m.order_line_id) for m in ledger if m.kind != "receipt"} == {
        (order.pk, None)
    }
    removed = OrderLine.history.get(order_id=order.pk, history_type="-")
    assert removed.history_change_reason == f"design event {project.external_id}-2"


def test_a_batch_reads_a_correction_made_after_its_events_were_read(items, coordinator_actor):
    project = ProjectFactory(**READY)
    body = event(project, 1, {"NOPE": 1})
    received = ingestion.receive(body, received_from="t").event
    process_batch([received], JobCounts())
    read_before = DesignEvent.objects.get(pk=received.pk)
    assert read_before.status == DesignEvent.Status.INVALID
    fixed = {**body, "items": [{"item": "IT-0", "quantity": 2}]}
    ingestion.correct(event=read_before, payload=fixed, actor=coordinator_actor)
    counts = JobCounts()
    process_batch([read_before], counts)
    assert counts.created == 1
    assert quantities(Order.objects.get(project=project)) == {"IT-0": 2}
    processed = DesignEvent.objects.get(pk=received.pk)
    assert (processed.status, processed.attempts) == (DesignEvent.Status.PROCESSED, 2)
