"""A run writes its plan in short transactions (allocation.engine.apply): between two of
them it holds no lock, so cancellations, receipts, adjustments, approvals and line
edits go through while it works; each chunk re-checks what it writes (all or none per
order), and a run taken up again after a failure writes nothing twice."""

import threading

import pytest
from django.db import OperationalError, connection
from django.db.models import Sum

from allocation import services
from allocation.choices import Result, RunStatus, Trigger
from allocation.engine import apply as engine_apply
from allocation.models import AllocationRun
from orders import services as order_services
from orders.choices import OrderStatus, ReasonCode
from orders.models import Order, OrderLine
from tests.allocation.builders import (
    allocate,
    make_world,
    outcome_of,
    status_of,
    stock_is_consistent,
)
from tests.factories import SETUP, make_order, stock
from warehouse.ledger.models import Allocation
from warehouse.ledger.services import stock_adjust, stock_receive

# How long a write made between two chunks may take before the test calls it blocked:
# far more than such a write needs, far less than the run, which waits for the test.
BLOCKED = 20


@pytest.fixture
def one_order_chunks(monkeypatch, settings):
    """Chunks of one order each (the sizer never grows them)."""
    monkeypatch.setattr(engine_apply, "FIRST_CHUNK", 1)
    monkeypatch.setattr(engine_apply, "MIN_CHUNK", 1)
    settings.OMS_ALLOCATION_CHUNK_SECONDS = 0


class Pause:
    """Holds the run after its first chunk has committed until the test lets it go."""

    def __init__(self, monkeypatch):
        self.reached, self.release = threading.Event(), threading.Event()
        self.chunks = 0
        apply_chunk = engine_apply._apply_chunk

        def pausing(*args, **kwargs):
            written = apply_chunk(*args, **kwargs)
            self.chunks += 1
            if self.chunks == 1:
                self.reached.set()
                assert self.release.wait(timeout=120), "the test never let the run go on"
            return written

        monkeypatch.setattr(engine_apply, "_apply_chunk", pausing)


def _in_thread(call):
    """Run the call in a thread with its own connection; its result, or its exception,
    or None if it did not finish within BLOCKED seconds."""
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except Exception as exc:  # the test looks at what it ended with
            outcome["value"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=BLOCKED)
    return outcome.get("value")


def _start_run():
    """Request a run; with tasks in process it executes in this thread (its own
    connection) at once."""
    thread = threading.Thread(
        target=lambda: (
            services.allocation_run_request(actor=SETUP, trigger=Trigger.COMMAND),
            connection.close(),
        )
    )
    thread.start()
    return thread


def _cancel(order):
    return order_services.order_cancel(
        order=Order.objects.get(pk=order.pk),
        actor=SETUP,
        reason_code=ReasonCode.NO_LONGER_NEEDED,
        reason_text="site dropped",
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cancels_receipts_approvals_and_line_edits_go_through_while_a_run_is_going(
    monkeypatch, one_order_chunks
):
    world = make_world()
    x, y = world.items[:2]
    stock(world.a, x, 100)
    first, second, third = (
        world.approved([(x, 5)], national_priority=priority) for priority in (1, 2, 3)
    )
    draft = make_order(project=world.project(), lines=[(y, 2)])
    to_edit = make_order(project=world.project(), lines=[(y, 2)])
    pause = Pause(monkeypatch)

    runner = _start_run()
    assert pause.reached.wait(timeout=60)
    # the run has written its first chunk (the first order) and has more to write
    assert AllocationRun.objects.get().status == RunStatus.RUNNING
    assert status_of(first) == OrderStatus.ALLOCATED
    writes = {
        "cancel of an order the run holds stock for": lambda: _cancel(first),
        "cancel of an order the run has yet to write": lambda: _cancel(third),
        "receipt of the item the run is taking": lambda: stock_receive(
            warehouse=world.a, item=x, quantity=7, reason="delivery", actor=SETUP
        ),
        "adjustment of the item the run is taking": lambda: stock_adjust(
            warehouse=world.a, item=x, quantity=-1, reason="count", actor=SETUP
        ),
        "approval": lambda: order_services.order_approve(
            order=Order.objects.get(pk=draft.pk), actor=SETUP
        ),
        "line edit": lambda: order_services.order_edit_lines(
            order=Order.objects.get(pk=to_edit.pk),
            edits=order_services.LineEdits(quantities={to_edit.lines.get().pk: 3}),
            actor=SETUP,
        ),
    }
    done = {name: _in_thread(call) for name, call in writes.items()}
    still_running = AllocationRun.objects.get().status == RunStatus.RUNNING
    pause.release.set()
    runner.join(timeout=60)

    assert not [name for name, value in done.items() if value is None], "blocked by the run"
    assert not [value for value in done.values() if isinstance(value, Exception)], done
    assert still_running
    run = AllocationRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED
    assert status_of(first) == OrderStatus.CANCELLED
    assert status_of(second) == OrderStatus.ALLOCATED
    assert status_of(third) == OrderStatus.CANCELLED
    assert outcome_of(run, third).result == Result.CHANGED
    assert stock_is_consistent() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_order_keeps_nothing_when_its_stock_or_the_order_changes_before_its_chunk(
    monkeypatch, one_order_chunks
):
    world = make_world()
    x, y = world.items[:2]
    stock(world.a, x, 10)
    stock(world.a, y, 10)
    first = world.approved([(x, 4)], national_priority=1)
    starved = world.approved([(y, 3), (x, 4)], national_priority=2)
    cancelled = world.approved([(y, 2)], national_priority=3)
    served = world.approved([(y, 2)], national_priority=4)
    pause = Pause(monkeypatch)

    runner = _start_run()
    assert pause.reached.wait(timeout=60)
    # after the plan: x counted away (6 left, 1 now), and one order cancelled
    assert _in_thread(
        lambda: stock_adjust(warehouse=world.a, item=x, quantity=-5, reason="count", actor=SETUP)
    )
    assert _in_thread(lambda: _cancel(cancelled))
    pause.release.set()
    runner.join(timeout=60)

    run = AllocationRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED
    assert (outcome_of(run, first).result, outcome_of(run, served).result) == ("allocated",) * 2
    outcome = outcome_of(run, starved)
    assert (outcome.result, outcome.units) == (Result.CHANGED, 0)
    assert "stock" in outcome.explanation["message"]
    assert outcome_of(run, cancelled).result == Result.CHANGED
    # all or none: the order whose y was still there took none of it
    assert status_of(starved) == OrderStatus.APPROVED
    assert list(
        OrderLine.objects.filter(order=starved).values_list("allocated_quantity", flat=True)
    ) == [0, 0]
    assert (run.allocated, run.changed, run.units_reserved) == (2, 2, 6)
    assert stock_is_consistent() == []


@pytest.mark.django_db
def test_a_run_taken_up_again_after_a_failure_writes_nothing_twice(
    world, monkeypatch, one_order_chunks
):
    x = world.items[0]
    stock(world.a, x, 100)
    orders = [world.approved([(x, 1 + n)], national_priority=1 + n) for n in range(5)]
    apply_chunk = engine_apply._apply_chunk
    calls = []

    def connection_lost_in_the_third_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OperationalError("server closed the connection unexpectedly")
        return apply_chunk(*args, **kwargs)

    monkeypatch.setattr(engine_apply, "_apply_chunk", connection_lost_in_the_third_chunk)
    with pytest.raises(OperationalError):
        allocate()
    run = AllocationRun.objects.get()
    assert run.status == RunStatus.QUEUED  # for the task to try again
    assert run.outcomes.count() == 2

    # the task tries again
    services.allocation_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.allocated, run.units_reserved) == ("succeeded", 5, 15)
    assert sorted(run.outcomes.values_list("rank", flat=True)) == [1, 2, 3, 4, 5]
    assert [outcome_of(run, o).rank for o in orders] == [1, 2, 3, 4, 5]
    held = dict(
        Allocation.objects.values("order_line__order")
        .annotate(units=Sum("quantity"))
        .values_list("order_line__order", "units")
    )
    assert held == {o.pk: 1 + n for n, o in enumerate(orders)}
    assert Allocation.objects.count() == 5
    assert stock_is_consistent() == []
