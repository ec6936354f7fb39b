"""Runs: dry runs change nothing, orders changing during a run are left to the next,
a failed run changes nothing, one run at a time, and old outcomes are removed."""

import datetime

import pytest
from django.db.models import Sum
from django.utils import timezone

from allocation import services
from allocation.choices import RunStatus, Trigger
from allocation.engine import apply as engine_apply
from allocation.engine import run as engine_run
from allocation.models import AllocationRun
from oms.actors import Actor
from oms.errors import ActionForbidden
from oms.models import JobRun, OutboxEvent
from orders import services as order_services
from orders.choices import OrderStatus, ReasonCode
from orders.models import Order, OrderLine
from tests.allocation.builders import (
    allocate,
    outcome_of,
    status_of,
)
from tests.factories import (
    SETUP,
    UserFactory,
    stock,
)
from warehouse.ledger.models import Allocation, StockLevel, StockMovement

pytestmark = pytest.mark.django_db


# --- Dry runs and runs that change while they work --------------------------------------


def _everything():
    return (
        list(StockLevel.objects.order_by("pk").values_list("pk", "on_hand", "reserved")),
        list(Order.objects.order_by("pk").values_list("pk", "status", "version", "reason_code")),
        list(OrderLine.objects.order_by("pk").values_list("pk", "allocated_quantity")),
        Allocation.objects.count(),
        StockMovement.objects.count(),
        OutboxEvent.objects.count(),
        Order.history.count(),
        OrderLine.history.count(),
    )


def test_a_dry_run_reports_everything_and_changes_nothing(world):
    x, y = world.items[:2]
    stock(world.a, x, 10)
    fits = world.approved([(x, 4)])
    short = world.approved([(x, 20)])
    mismatched = world.approved([(y, 1)])
    before = _everything()

    run = allocate(dry_run=True)

    assert _everything() == before
    assert (run.dry_run, run.status) == (True, RunStatus.SUCCEEDED)
    assert (run.allocated, run.short, run.rejected, run.units_reserved) == (1, 1, 1, 4)
    assert outcome_of(run, fits).result == "allocated"
    assert outcome_of(run, short).result == "short"
    assert outcome_of(run, mismatched).reason_code == ReasonCode.UNKNOWN_ITEM


def test_an_order_that_changes_while_the_run_reads_is_left_to_the_next_run(world, monkeypatch):
    x = world.items[0]
    stock(world.a, x, 10)
    order = world.approved([(x, 2)])
    read = engine_run.load_demand

    def read_then_someone_edits():
        demand = read()
        # meanwhile a coordinator sends the order back, changes it and approves it again
        order_services.order_reject(
            order=Order.objects.get(pk=order.pk),
            actor=SETUP,
            reason_code=ReasonCode.COORDINATOR_REJECTED,
            reason_text="one more",
        )
        line = order.lines.get()
        order_services.order_edit_lines(
            order=Order.objects.get(pk=order.pk),
            edits=order_services.LineEdits(quantities={line.pk: 3}),
            actor=SETUP,
        )
        order_services.order_approve(order=Order.objects.get(pk=order.pk), actor=SETUP)
        return demand

    monkeypatch.setattr(engine_run, "load_demand", read_then_someone_edits)
    run = allocate()

    assert (outcome_of(run, order).result, run.changed, run.allocated) == ("changed", 1, 0)
    assert Allocation.objects.count() == 0
    monkeypatch.setattr(engine_run, "load_demand", read)
    allocate()
    assert OrderLine.objects.get(order=order).allocated_quantity == 3


def test_a_run_that_fails_records_why_and_keeps_nothing_of_the_chunk_it_was_writing(
    world, monkeypatch
):
    x = world.items[0]
    stock(world.a, x, 10)
    order = world.approved([(x, 2)])
    before = _everything()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(engine_apply, "orders_allocate", broken)
    with pytest.raises(RuntimeError):
        allocate()

    run = AllocationRun.objects.get()
    assert (run.status, run.active, run.error) == ("failed", None, "RuntimeError: disk full")
    assert JobRun.objects.get(pk=run.job_run_id).status == JobRun.Status.FAILED
    assert _everything() == before
    assert status_of(order) == OrderStatus.APPROVED
    # and the next run can start
    monkeypatch.undo()
    assert allocate().allocated == 1


# --- One run at a time ------------------------------------------------------------------


def test_a_run_cannot_start_while_another_is_queued(world):
    first = services.allocation_run_request(actor=SETUP, trigger=Trigger.COMMAND)

    with pytest.raises(services.AllocationRunInProgress) as busy:
        services.allocation_run_request(actor=SETUP, trigger=Trigger.API, dry_run=True)

    assert busy.value.run == first
    assert f"#{first.pk}" in str(busy.value)
    assert AllocationRun.objects.count() == 1


def test_a_queued_run_no_worker_started_is_given_up_after_a_while(world):
    first = services.allocation_run_request(actor=SETUP, trigger=Trigger.COMMAND)
    AllocationRun.objects.filter(pk=first.pk).update(
        requested_at=timezone.now() - datetime.timedelta(minutes=11)
    )

    second = services.allocation_run_request(actor=SETUP, trigger=Trigger.COMMAND)

    first.refresh_from_db()
    assert (first.status, first.active) == ("failed", None)
    assert "abandoned" in first.error
    assert second.status == "queued"


def test_a_queued_run_whose_task_never_arrived_is_sent_again_and_runs(world):
    from allocation.tasks import send_waiting_allocation_runs

    x = world.items[0]
    stock(world.a, x, 10)
    world.approved([(x, 2)])
    # given a run asked for while the broker was down: queued, its task never sent
    run = services.allocation_run_request(actor=SETUP, trigger=Trigger.COMMAND)

    # a run asked for a moment ago is left to the task on its way
    assert send_waiting_allocation_runs.delay().get() == 0
    AllocationRun.objects.filter(pk=run.pk).update(
        requested_at=timezone.now() - datetime.timedelta(minutes=2)
    )

    # then beat's sweep sends it again, and it runs once
    assert send_waiting_allocation_runs.delay().get() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert Allocation.objects.aggregate(n=Sum("quantity"))["n"] == 2
    assert send_waiting_allocation_runs.delay().get() == 0


def test_executing_a_run_twice_executes_it_once(world):
    x = world.items[0]
    stock(world.a, x, 10)
    world.approved([(x, 2)])
    run = allocate()

    assert services.allocation_run_execute(run_id=run.pk) is None
    assert Allocation.objects.aggregate(n=Sum("quantity"))["n"] == 2
    assert JobRun.objects.filter(name="allocation").count() == 1


def test_only_people_allowed_to_run_allocation_start_runs(world):
    viewer = Actor.person(UserFactory(role="viewer"))
    with pytest.raises(ActionForbidden):
        services.allocation_run_request(actor=viewer, trigger=Trigger.BACK_OFFICE)
    coordinator = Actor.person(UserFactory(role="coordinator"))
    run = services.allocation_run_request(actor=coordinator, trigger=Trigger.BACK_OFFICE)
    assert (run.requested_by_kind, run.requested_by_name) == ("person", coordinator.name)


def test_the_outcomes_of_old_runs_are_removed_and_their_counts_stay(world, settings):
    settings.OMS_ALLOCATION_KEEP_DAYS = 14
    x = world.items[0]
    stock(world.a, x, 1)
    world.approved([(x, 2)])
    old, recent = allocate(), allocate(dry_run=True)
    AllocationRun.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=15)
    )

    assert services.allocation_outcomes_prune() == 1

    old.refresh_from_db()
    assert old.outcomes_pruned_at is not None and not old.outcomes.exists()
    assert (old.eligible, old.short) == (1, 1)
    assert recent.outcomes.count() == 1
    assert services.allocation_outcomes_prune() == 0


def test_a_dry_run_job_counts_the_allocations_it_would_have_made(world):
    x, y = world.items[:2]
    stock(world.a, x, 10)
    stock(world.a, y, 10)
    world.approved([(x, 4), (y, 2)])
    world.approved([(x, 20)])

    dry = allocate(dry_run=True)
    real = allocate()

    dry_job, real_job = (JobRun.objects.get(pk=r.job_run_id) for r in (dry, real))
    assert Allocation.objects.count() == real_job.created == 2
    assert (dry_job.created, dry_job.modified) == (real_job.created, real_job.modified)
    assert dry_job.dry_run and not real_job.dry_run
