"""When runs happen: on beat's schedule, and soon after stock arrives (once for a burst);
with a real worker through Redis."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker

from allocation import tasks, triggers
from allocation.choices import RunStatus, Trigger
from allocation.models import AllocationRun
from oms import celery_app, relay
from orders.choices import OrderStatus
from tests.allocation.builders import make_world, status_of
from tests.factories import SETUP, stock
from warehouse.ledger.services import stock_adjust

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def with_broker(monkeypatch, settings):
    """Tasks go to a broker (not run in-process); what is sent is recorded."""
    settings.OMS_ALLOCATION_AFTER_STOCK_SECONDS = 45
    sent = []
    monkeypatch.setattr(
        tasks.allocation_after_stock, "apply_async", lambda **options: sent.append(options)
    )
    celery_app.conf.task_always_eager = False
    try:
        yield sent
    finally:
        celery_app.conf.task_always_eager = True


@pytest.mark.django_db
def test_the_schedule_starts_a_run_unless_one_is_going(world, django_capture_on_commit_callbacks):
    x = world.items[0]
    stock(world.a, x, 5)
    order = world.approved([(x, 2)])
    with django_capture_on_commit_callbacks(execute=True):
        run_id = tasks.scheduled_allocation_run()

    run = AllocationRun.objects.get(pk=run_id)
    assert (run.trigger, run.status, run.requested_by_name) == (
        Trigger.SCHEDULE,
        RunStatus.SUCCEEDED,
        "allocation schedule",
    )
    assert status_of(order) == OrderStatus.ALLOCATED

    AllocationRun.objects.create(
        trigger=Trigger.API, requested_by_kind="client", requested_by_name="erp"
    )  # queued, waiting for a worker
    assert tasks.scheduled_allocation_run() is None
    assert AllocationRun.objects.count() == 2


@pytest.mark.django_db
def test_a_burst_of_arriving_stock_schedules_one_run_soon_after(
    world, with_broker, django_capture_on_commit_callbacks
):
    x, y = world.items[:2]
    with django_capture_on_commit_callbacks(execute=True):
        stock(world.a, x, 5)
        stock(world.b, y, 5)
        stock_adjust(warehouse=world.a, item=x, quantity=3, reason="count", actor=SETUP)
        relay.relay_pending()  # hands on their stock.available events

    assert with_broker == [{"countdown": 45}]
    with django_capture_on_commit_callbacks(execute=True):
        stock(world.a, x, 1)  # within the delay: the scheduled run will see it too
        relay.relay_pending()
    assert with_broker == [{"countdown": 45}]


@pytest.mark.django_db
def test_stock_taken_away_schedules_nothing(world, with_broker, django_capture_on_commit_callbacks):
    x = world.items[0]
    stock(world.a, x, 5)
    relay.relay_pending()  # outside the capture: the run it would schedule is dropped
    with django_capture_on_commit_callbacks(execute=True):
        stock_adjust(warehouse=world.a, item=x, quantity=-2, reason="count", actor=SETUP)
        relay.relay_pending()
    assert with_broker == []


@pytest.mark.django_db
def test_stock_given_back_by_a_cancellation_schedules_a_run(
    world, with_broker, django_capture_on_commit_callbacks
):
    from orders import services as order_services
    from orders.choices import ReasonCode

    x = world.items[0]
    stock(world.a, x, 5)
    order = order_services.order_allocate(
        order=world.approved([(x, 2)]), warehouse=world.a, actor=SETUP
    )
    relay.relay_pending()  # outside the capture: the run it would schedule is dropped
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_cancel(
            order=order,
            actor=SETUP,
            reason_code=ReasonCode.NO_LONGER_NEEDED,
            reason_text="site dropped",
        )
        relay.relay_pending()
    assert with_broker == [{"countdown": 45}]


@pytest.mark.django_db
def test_without_a_broker_arriving_stock_schedules_nothing(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks.allocation_after_stock, "apply_async", lambda **o: sent.append(o))
    with django_capture_on_commit_callbacks(execute=True):
        stock(world.a, world.items[0], 5)
        relay.relay_pending()
    assert sent == []


def test_beat_runs_allocation_at_the_configured_interval():
    def schedule(**env):
        result = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from django.conf import settings; "
                "print(settings.CELERY_BEAT_SCHEDULE.get('allocation-run'))",
            ],
            cwd=ROOT,
            env={**os.environ, "DEBUG": "true", **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        return result.stdout.strip().splitlines()[-1]

    assert "'schedule': 900.0" in schedule()
    assert "'schedule': 120.0" in schedule(OMS_ALLOCATION_INTERVAL_SECONDS="120")
    assert schedule(OMS_ALLOCATION_INTERVAL_SECONDS="0") == "None"


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_allocates_soon_after_stock_arrives(settings):
    # given an approved order waiting for stock, and a worker behind Redis
    settings.OMS_ALLOCATION_AFTER_STOCK_SECONDS = 1
    settings.OMS_RELAY_KICK = True  # the relay hands stock.available on to allocation
    world = make_world()
    x = world.items[0]
    order = world.approved([(x, 3)])
    from django.core.cache import cache

    cache.delete(triggers.CACHE_KEY)
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
            # when the stock arrives (two deliveries, one run)
            stock(world.a, x, 2)
            stock(world.a, x, 2)
            deadline = time.monotonic() + 40
            while status_of(order) != OrderStatus.ALLOCATED and time.monotonic() < deadline:
                time.sleep(0.3)
    finally:
        celery_app.conf.task_always_eager = True

    assert status_of(order) == OrderStatus.ALLOCATED
    run = AllocationRun.objects.get()
    assert (run.trigger, run.status) == (Trigger.STOCK_ARRIVAL, RunStatus.SUCCEEDED)


@pytest.mark.django_db
def test_the_command_runs_allocation_and_prints_what_it_did(world, capsys):
    from django.core.management import call_command

    x = world.items[0]
    stock(world.a, x, 3)
    world.approved([(x, 2)], national_priority=1)
    world.approved([(x, 2)], national_priority=2)

    call_command("run_allocation", "--dry-run")
    call_command("run_allocation")

    out = capsys.readouterr().out
    dry, real = AllocationRun.objects.order_by("pk")
    assert f"Dry run #{dry.pk} succeeded: 2 eligible, 1 allocated, 1 short" in out
    assert "2 units would be reserved" in out
    assert f"Allocation run #{real.pk} succeeded: 2 eligible, 1 allocated, 1 short" in out
    assert f"{x.code} keeps 1 order(s) short; 1 more would unblock them" in out
    assert (real.trigger, real.dry_run) == (Trigger.COMMAND, False)
    assert real.outcomes.filter(result="allocated").count() == 1
