"""Runs under real concurrency (PostgreSQL, threads with their own connections): stock
changing during a run is never lost or counted twice, and runs never overlap."""

import contextlib
import random
import threading
import time

import pytest

from allocation import services
from allocation.choices import RunStatus, Trigger
from allocation.engine import run as engine_run
from allocation.models import AllocationRun
from oms.errors import DomainError
from orders import services as order_services
from orders.choices import OrderStatus, ReasonCode
from orders.models import Order
from tests.allocation.builders import make_world, stock_is_consistent
from tests.concurrency import at_once
from tests.factories import SETUP, stock
from warehouse.ledger.services import stock_adjust, stock_receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("seed", range(3))
def test_a_run_racing_stock_changes_and_cancellations_keeps_stock_consistent(seed, monkeypatch):
    rng = random.Random(seed)
    # the run pauses after reading the orders and while it walks, so that the other
    # threads change stock and orders between its read, its locks and its writes
    read, walk = engine_run.load_demand, engine_run.walk
    monkeypatch.setattr(engine_run, "load_demand", lambda: (read(), time.sleep(0.3))[0])
    monkeypatch.setattr(engine_run, "walk", lambda *a, **k: (time.sleep(0.2), walk(*a, **k))[1])
    world = make_world()
    for warehouse in (world.a, world.b):
        for item in world.items:
            stock(warehouse, item, rng.randint(3, 8))  # less than the orders need
    orders = [
        world.approved([(item, rng.randint(1, 5)) for item in rng.sample(world.items, 2)])
        for _ in range(14)
    ]
    # some orders hold stock already: cancelling them gives it back during the run
    for order in orders[:3]:
        with contextlib.suppress(DomainError):
            order_services.order_allocate(order=order, warehouse=world.a, actor=SETUP)
    levels = [(w, i) for w in (world.a, world.b) for i in world.items]

    def run():
        return services.allocation_run_request(actor=SETUP, trigger=Trigger.COMMAND)

    def adjust():
        for _ in range(30):
            time.sleep(0.02)
            warehouse, item = rng.choice(levels)
            quantity = rng.choice([-3, -2, -1, -1, 2])
            with contextlib.suppress(DomainError):  # reserved stock cannot be adjusted away
                stock_adjust(
                    warehouse=warehouse, item=item, quantity=quantity, reason="count", actor=SETUP
                )

    def receive():
        for _ in range(15):
            time.sleep(0.04)
            warehouse, item = rng.choice(levels)
            stock_receive(warehouse=warehouse, item=item, quantity=3, reason="dn", actor=SETUP)

    def cancel():
        for order in rng.sample(orders, 6):
            time.sleep(0.08)
            with contextlib.suppress(DomainError):
                order_services.order_cancel(
                    order=Order.objects.get(pk=order.pk),
                    actor=SETUP,
                    reason_code=ReasonCode.NO_LONGER_NEEDED,
                    reason_text="site dropped",
                )

    outcomes = at_once(run, adjust, receive, cancel)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes

    assert AllocationRun.objects.get().status == RunStatus.SUCCEEDED
    assert stock_is_consistent() == []
    for order in Order.objects.prefetch_related("lines"):
        held = [line.allocated_quantity for line in order.lines.all()]
        if order.status == OrderStatus.ALLOCATED:
            assert held == [line.quantity for line in order.lines.all()], order.number
        else:
            assert not any(held), order.number


@pytest.mark.parametrize("attempt", range(3))
def test_two_runs_started_together_give_one_run(attempt):
    world = make_world()
    stock(world.a, world.items[0], 10)
    world.approved([(world.items[0], 2)])

    outcomes = at_once(
        lambda: services.allocation_run_request(actor=SETUP, trigger=Trigger.API),
        lambda: services.allocation_run_request(actor=SETUP, trigger=Trigger.BACK_OFFICE),
    )

    runs = [o for o in outcomes if isinstance(o, AllocationRun)]
    refused = [o for o in outcomes if isinstance(o, services.AllocationRunInProgress)]
    assert len(runs) == 1 and len(refused) == 1, outcomes
    assert refused[0].run.pk == runs[0].pk
    assert AllocationRun.objects.count() == 1
    assert AllocationRun.objects.get().allocated == 1


def test_a_request_while_a_run_works_is_told_which_run(monkeypatch):
    world = make_world()
    stock(world.a, world.items[0], 10)
    world.approved([(world.items[0], 2)])
    started = threading.Event()
    walk = engine_run.walk

    def slow_walk(*args, **kwargs):
        started.set()
        time.sleep(1.5)
        return walk(*args, **kwargs)

    monkeypatch.setattr(engine_run, "walk", slow_walk)

    def second():
        assert started.wait(timeout=30)
        return services.allocation_run_request(actor=SETUP, trigger=Trigger.API)

    first, refused = at_once(
        lambda: services.allocation_run_request(actor=SETUP, trigger=Trigger.COMMAND), second
    )

    assert isinstance(refused, services.AllocationRunInProgress), refused
    assert refused.run.pk == first.pk
    assert refused.run.status == RunStatus.RUNNING
    assert AllocationRun.objects.count() == 1


def test_a_run_whose_process_died_is_given_up_by_the_next_request():
    run = AllocationRun.objects.create(
        trigger=Trigger.SCHEDULE, requested_by_kind="system", requested_by_name="beat"
    )
    AllocationRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)  # nobody holds it

    second = services.allocation_run_request(actor=SETUP, trigger=Trigger.COMMAND)

    run.refresh_from_db()
    assert (run.status, run.active) == (RunStatus.FAILED, None)
    assert "abandoned" in run.error
    assert second.pk != run.pk
