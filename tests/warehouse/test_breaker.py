"""The circuit breaker of a warehouse: opens after failures in a row, lets one probe
through after the cool-down, closes on success. State lives in the shared cache."""

import pytest

from warehouse.integration import breaker
from warehouse.integration.breaker import Breaker, State


@pytest.fixture
def clock(monkeypatch, settings):
    settings.OMS_WAREHOUSE_BREAKER_FAILURES = 3
    settings.OMS_WAREHOUSE_BREAKER_COOLDOWN_SECONDS = 30
    now = [1_000_000.0]
    monkeypatch.setattr(breaker, "now", lambda: now[0])
    return now


def _fail(b: Breaker, times: int) -> None:
    for _ in range(times):
        b.record_failure()


def test_the_breaker_opens_after_the_configured_failures_in_a_row(clock):
    b = Breaker("WH-A")
    _fail(b, 2)
    assert b.state() == (State.CLOSED, None)
    assert b.wait_before_call() is None

    b.record_failure()

    assert b.state() == (State.OPEN, clock[0] + 30)
    assert b.wait_before_call() == 30


def test_a_success_between_failures_starts_the_count_again(clock):
    b = Breaker("WH-A")
    _fail(b, 2)
    b.record_success()
    _fail(b, 2)

    assert b.state()[0] == State.CLOSED


def test_an_open_breaker_lets_one_probe_through_after_the_cool_down(clock):
    b = Breaker("WH-A")
    _fail(b, 3)
    clock[0] += 29
    assert b.wait_before_call() == pytest.approx(1)

    clock[0] += 1
    assert b.state()[0] == State.HALF_OPEN
    assert b.wait_before_call() is None  # this caller probes
    assert b.wait_before_call() == breaker.PROBE_GRACE_SECONDS  # the others wait


def test_a_successful_probe_closes_the_breaker(clock):
    b = Breaker("WH-A")
    _fail(b, 3)
    clock[0] += 30
    assert b.wait_before_call() is None

    b.record_success()

    assert b.state() == (State.CLOSED, None)
    assert b.wait_before_call() is None
    _fail(b, 2)
    assert b.state()[0] == State.CLOSED  # counting from zero again


def test_a_failed_probe_opens_the_breaker_for_another_cool_down(clock):
    b = Breaker("WH-A")
    _fail(b, 3)
    clock[0] += 30
    assert b.wait_before_call() is None

    b.record_failure()

    assert b.state() == (State.OPEN, clock[0] + 30)


def test_every_worker_sees_the_same_breaker_and_warehouses_have_their_own(clock):
    _fail(Breaker("WH-A"), 3)

    assert Breaker("WH-A").state()[0] == State.OPEN  # another instance, same cache
    assert Breaker("WH-B").state()[0] == State.CLOSED
