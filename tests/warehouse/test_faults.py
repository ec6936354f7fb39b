"""The warehouse protocol under faults, with real processes: the OMS web server
(gunicorn), Celery workers with beat (the relay runs every second) on the real Redis,
and the warehouse simulator calling OMS back over HTTP, all on the test database."""

import time

import pytest
from django.db.models import Count

from orders.choices import OrderStatus
from orders.models import Order, OrderLine
from tests.factories import SETUP, ItemFactory, WarehouseFactory, order_in
from tests.warehouse.bulk_orders import released_orders
from tests.warehouse.ledger import figures, level_mismatches, movements_per_line
from tests.warehouse.processes import wait_for
from warehouse.integration.breaker import Breaker, State
from warehouse.integration.choices import CallbackKind, CallOutcome, ReleaseStatus
from warehouse.integration.models import Release, WarehouseCall, WarehouseCallback
from warehouse.integration.releases import release_order
from warehouse.ledger.choices import MovementKind

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# Short waits, so that a test takes seconds: the retry backoff, the breaker's cool-down
# and the timeouts of the calls to the warehouse.
FAST = {
    "OMS_WAREHOUSE_RETRY_BASE_SECONDS": "0.2",
    "OMS_WAREHOUSE_RETRY_MAX_SECONDS": "1.5",
    "OMS_WAREHOUSE_MAX_ATTEMPTS": "200",
    "OMS_WAREHOUSE_BREAKER_FAILURES": "3",
    "OMS_WAREHOUSE_BREAKER_COOLDOWN_SECONDS": "2",
    "OMS_WAREHOUSE_CONNECT_TIMEOUT_SECONDS": "1",
    "OMS_WAREHOUSE_TIMEOUT_SECONDS": "1.5",
}


def _released(count: int) -> list[Order]:
    """Orders released through the services, sharing one warehouse and its stock."""
    warehouse, items = WarehouseFactory(), [ItemFactory() for _ in range(3)]
    orders = []
    for n in range(count):
        order = order_in(
            OrderStatus.ALLOCATED,
            warehouse=warehouse,
            lines=[(items[n % 3], 2), (items[(n + 1) % 3], 1)],
        )
        orders.append(release_order(order=order, actor=SETUP))
    return orders


def _closed(orders) -> int:
    return Order.objects.filter(pk__in=[o.pk for o in orders], status=OrderStatus.CLOSED).count()


def _assert_each_line_issued_once(orders) -> None:
    lines = OrderLine.objects.filter(order__in=orders)
    issued = movements_per_line(MovementKind.ISSUE)
    reserved = movements_per_line(MovementKind.RESERVE)
    for line in lines:
        assert issued[line.pk] == 1, (line.pk, issued[line.pk])
        assert reserved[line.pk] == 1, (line.pk, reserved[line.pk])
        assert line.released_quantity == line.quantity
        assert line.allocated_quantity == 0
    assert level_mismatches() == []


def _callbacks_by_kind() -> dict:
    return dict(WarehouseCallback.objects.values_list("kind").annotate(n=Count("id")))


def test_a_warehouse_down_then_failing_gets_every_release_exactly_once_after_recovery(
    stack, warehouse_token
):
    orders = _released(12)
    releases = list(Release.objects.filter(order__in=orders).select_related("warehouse"))
    code = releases[0].warehouse.code
    oms = stack(**FAST)
    oms.web()
    oms.worker()

    # Nothing listens where the warehouse should be: connections are refused, the
    # breaker opens, and every release waits (tried, or held back by the breaker).
    wait_for(lambda: Breaker(code).state()[0] == State.OPEN, timeout=60, what="the breaker")
    wait_for(
        lambda: (
            not Release.objects.filter(
                pk__in=[r.pk for r in releases], last_attempt_at__isnull=True
            ).exists()
        ),
        timeout=60,
        what="every release to have been tried",
    )
    refused = WarehouseCall.objects.filter(error__startswith="connection failed").count()
    assert refused >= 3
    assert not Release.objects.filter(sent_at__isnull=False).exists()
    assert not Release.objects.filter(delivery_failed_at__isnull=False).exists()

    # The warehouse comes up but answers 503: still no release taken.
    oms.simulator(warehouse_token, "--fail-rate", "1", "--accept-delay", "0.2")
    wait_for(
        lambda: WarehouseCall.objects.filter(status_code=503).count() >= 3,
        timeout=60,
        what="calls answered 503",
    )
    assert oms.sim_status()["stats"].get("releases", 0) == 0
    assert _closed(orders) == 0

    # It recovers: every release is taken once, and every order closes.
    oms.control(fail_rate=0)
    started = time.monotonic()
    wait_for(lambda: _closed(orders) == len(orders), timeout=90, what="all orders CLOSED")
    recovery = time.monotonic() - started
    wait_for(lambda: oms.sim_status()["callbacks_pending"] == 0, timeout=60, what="callbacks")

    status = oms.sim_status()
    assert status["stats"]["releases"] == len(orders)
    assert status["releases"] == {"completed": len(orders)}
    for release in releases:
        assert oms.sim_release(release.release_id)["status"] == "completed"
    assert Release.objects.filter(
        pk__in=[r.pk for r in releases], status=ReleaseStatus.COMPLETED, sent_at__isnull=False
    ).count() == len(orders)
    assert _callbacks_by_kind() == {
        CallbackKind.ACCEPTED: len(orders),
        CallbackKind.COMPLETED: len(orders),
    }
    _assert_each_line_issued_once(orders)
    assert Breaker(code).state()[0] == State.CLOSED
    outcomes = dict(WarehouseCall.objects.values_list("outcome").annotate(n=Count("id")))
    print(
        f"\n{len(orders)} releases: {refused} calls refused, "
        f"{WarehouseCall.objects.filter(status_code=503).count()} answered 503, "
        f"calls by outcome {outcomes}; all closed {recovery:.1f} s after recovery"
    )


def test_a_worker_killed_in_the_middle_of_a_release_has_it_run_again_and_released_once(
    stack, warehouse_token
):
    (order,) = _released(1)
    release = order.releases.get()
    # The warehouse takes the release and answers only after a long while: the worker
    # is killed while it waits for the answer.
    oms = stack(**{**FAST, "OMS_WAREHOUSE_TIMEOUT_SECONDS": "60"})
    oms.web()
    oms.simulator(
        warehouse_token, "--latency", "60", "--accept-delay", "12", "--complete-delay", "13"
    )
    first = oms.worker("worker-1")
    wait_for(lambda: oms.sim_release(release.release_id), timeout=60, what="the release sent")
    first.kill()
    assert not first.running
    oms.control(latency=0)

    # Another worker takes the task over once its visibility timeout has passed.
    oms.worker(
        "worker-2",
        CELERY_BROKER_TRANSPORT_OPTIONS='{"visibility_timeout": 5, '
        '"unacked_restore_interval": 1, "unacked_restore_throttle": 1}',
    )
    wait_for(lambda: _closed([order]) == 1, timeout=90, what="the order CLOSED")
    wait_for(lambda: oms.sim_status()["callbacks_pending"] == 0, timeout=60, what="callbacks")

    seen = oms.sim_release(release.release_id)
    assert seen["received"] == 2, seen  # the task ran again after the kill ...
    assert oms.sim_status()["stats"]["releases"] == 1  # ... and the warehouse released once
    assert seen["callbacks"] == {"accepted": 1, "completed": 1}
    release.refresh_from_db()
    assert release.status == ReleaseStatus.COMPLETED
    # the killed attempt recorded nothing; the second one its delivery
    assert list(release.calls.values_list("outcome", flat=True)) == [CallOutcome.DELIVERED]
    _assert_each_line_issued_once([order])


def test_duplicate_and_out_of_order_callbacks_have_one_effect(stack, warehouse_token):
    orders = _released(8)
    oms = stack(**FAST)
    oms.web()
    # Every callback sent twice, and "completed" sent before "accepted".
    oms.simulator(
        warehouse_token,
        "--duplicate-rate",
        "1",
        "--out-of-order",
        "--accept-delay",
        "0.3",
        "--complete-delay",
        "0.5",
    )
    oms.worker()

    wait_for(lambda: _closed(orders) == len(orders), timeout=60, what="all orders CLOSED")
    wait_for(lambda: oms.sim_status()["callbacks_pending"] == 0, timeout=30, what="callbacks")

    stats = oms.sim_status()["stats"]
    assert stats["duplicates_sent"] == 2 * len(orders)
    assert stats["callbacks_delivered"] == 4 * len(orders)  # the repeats answered too
    assert _callbacks_by_kind() == {
        CallbackKind.ACCEPTED: len(orders),
        CallbackKind.COMPLETED: len(orders),
    }
    # "accepted" came after "completed" and changed nothing
    late = WarehouseCallback.objects.filter(kind=CallbackKind.ACCEPTED)
    assert set(late.values_list("outcome", flat=True)) == {"already completed"}
    assert set(Release.objects.filter(order__in=orders).values_list("status", "accepted_at")) == {
        (ReleaseStatus.COMPLETED, None)
    }
    _assert_each_line_issued_once(orders)


def test_a_thousand_orders_close_through_twenty_percent_failures_and_the_ledger_reconciles(
    stack, warehouse_token
):
    count = 1000
    started = time.monotonic()
    orders = released_orders(count, items=40)
    built = time.monotonic() - started
    before = figures()
    oms = stack(
        **{**FAST, "OMS_WAREHOUSE_BREAKER_FAILURES": "8", "OMS_WAREHOUSE_TIMEOUT_SECONDS": "0.5"}
    )
    oms.web()
    # 15% of the release requests answered 503, 5% taken but answered too late.
    oms.simulator(
        warehouse_token,
        "--fail-rate",
        "0.15",
        "--timeout-rate",
        "0.05",
        "--timeout-seconds",
        "1",
        "--accept-delay",
        "0",
        "--complete-delay",
        "0.2",
        "--callback-workers",
        "8",
    )
    oms.worker(concurrency=4)

    started = time.monotonic()
    wait_for(
        lambda: not Release.objects.filter(status=ReleaseStatus.REQUESTED).exists(),
        timeout=240,
        what="the warehouse to answer every release",
        every=1,
    )
    answered = time.monotonic() - started
    wait_for(lambda: _closed(orders) == count, timeout=240, what="all orders CLOSED", every=1)
    elapsed = time.monotonic() - started
    wait_for(lambda: oms.sim_status()["callbacks_pending"] == 0, timeout=60, what="callbacks")

    stats = oms.sim_status()["stats"]
    assert stats["releases"] == count  # each release taken once ...
    injected = stats.get("injected_failures", 0) + stats.get("injected_timeouts", 0)
    assert injected >= 0.15 * stats["requests"]  # ... through the injected failures
    assert Release.objects.filter(status=ReleaseStatus.COMPLETED).count() == count
    assert _callbacks_by_kind() == {CallbackKind.ACCEPTED: count, CallbackKind.COMPLETED: count}
    _assert_each_line_issued_once(orders)
    after = figures()
    units = sum(OrderLine.objects.values_list("quantity", flat=True))
    assert after["movements"][MovementKind.ISSUE] == (
        OrderLine.objects.count(),
        units,
    )
    assert after["reserved"] == 0
    assert after["on_hand"] == before["on_hand"] - units
    assert MovementKind.UNRESERVE not in after["movements"]
    outcomes = dict(WarehouseCall.objects.values_list("outcome").annotate(n=Count("id")))
    print(
        f"\n{count} orders built in {built:.1f} s; all answered by the warehouse after "
        f"{answered:.1f} s, all closed after {elapsed:.1f} s"
        f"\nwarehouse: {stats['requests']} requests, {stats.get('injected_failures', 0)} "
        f"answered {503}, {stats.get('injected_timeouts', 0)} timed out, "
        f"{stats.get('repeats', 0)} repeats, {stats['releases']} releases taken"
        f"\ncalls by outcome: {outcomes}"
        f"\nmovements (count, units): {after['movements']}"
        f"\non hand {before['on_hand']} -> {after['on_hand']} (issued {units}), "
        f"reserved {before['reserved']} -> {after['reserved']}; "
        f"levels differing from the ledger: {len(level_mismatches())}"
    )
