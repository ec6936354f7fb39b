"""Redis down (cache and broker): reads and writes that do not need it keep working,
throttles let requests through, and work that needs the broker waits in the database
and is sent once when Redis is back: nothing lost, nothing twice. On a Redis of the
test's own, stopped and started again empty, and a real Celery worker."""

import datetime

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from oms import celery_app, relay
from oms.models import OutboxEvent
from orders.choices import OrderStatus
from orders.ingestion import receiving
from orders.models import DesignEvent
from tests.factories import ItemFactory, ProjectFactory, order_in
from tests.warehouse.processes import wait_for
from warehouse.integration.models import Release, WarehouseCall

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_down(redis_cache, private_broker):
    """The cache and the broker both on the private Redis, as with REDIS_URL."""
    assert redis_cache is private_broker
    return redis_cache


def design_event(project, event_id):
    return {
        "event_id": event_id,
        "type": "design_approved",
        "project_id": project.external_id,
        "order_type": "radio",
        "occurred_at": "2026-11-01T09:00:00Z",
        "need_by": "2026-12-15",
        "items": [{"item": "RRU-OUT", "quantity": 2}],
    }


def test_with_redis_down_every_call_answers_2xx_and_the_work_is_sent_once_when_it_is_back(
    redis_down, make_caller, warehouse_stub, released, settings
):
    settings.OMS_DESIGN_EVENT_SWEEP_SECONDS = 0
    settings.OMS_ALLOCATION_AFTER_STOCK_SECONDS = 0
    # a client allowed 2 calls a minute: with Redis up the third is throttled
    caller = make_caller(throttle_rate="2/min")
    caller.get("/api/v1/orders/")
    caller.get("/api/v1/orders/")
    assert caller.get("/api/v1/orders/").status_code == 429

    allocated = [order_in(OrderStatus.ALLOCATED) for _ in range(3)]
    ItemFactory(code="RRU-OUT")
    project = ProjectFactory(construction_start_on=datetime.date(2026, 5, 1))
    _, acknowledged = released
    OutboxEvent.objects.update(delivered_at=timezone.now())  # what came before is relayed
    redis_down.stop()

    # given Redis is down: reads, releases, design events and warehouse callbacks
    answers = [caller.get("/api/v1/orders/").status_code for _ in range(5)]
    answers += [
        caller.post(f"/api/v1/orders/{order.number}/release/").status_code for order in allocated
    ]
    answers.append(
        caller.post("/api/v1/design-events/", design_event(project, "ev-out")).status_code
    )
    answers.append(
        caller.post(
            f"/api/v1/warehouse/releases/{acknowledged.release_id}/accepted/", {"event_id": "a-1"}
        ).status_code
    )
    answers.append(
        caller.post(
            "/api/v1/warehouse/stock-receipts/",
            {
                "event_id": "st-out",
                "warehouse": acknowledged.warehouse.code,
                "item": "RRU-OUT",
                "quantity": 5,
                "reason": "during the outage",
            },
        ).status_code
    )

    # then every call succeeded (the throttle let them through) and the work waits
    assert all(200 <= status < 300 for status in answers), answers
    releases = list(Release.objects.filter(order__in=allocated))
    assert len(releases) == 3 and all(r.sent_at is None for r in releases)
    assert OutboxEvent.objects.filter(event_type="order.released", delivered_at=None).count() == 3
    assert DesignEvent.objects.get(event_id="ev-out").status == DesignEvent.Status.RECEIVED
    assert warehouse_stub.received == []

    # when Redis is back (empty), beat's relay and sweep send the work to a worker
    redis_down.start()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        relay.relay_pending()
        receiving.send_waiting()
        wait_for(
            lambda: Release.objects.filter(order__in=allocated, sent_at__isnull=False).count() == 3,
            timeout=30,
            what="the releases asked for during the outage to be sent",
        )
        wait_for(
            lambda: (
                DesignEvent.objects.get(event_id="ev-out").status == DesignEvent.Status.PROCESSED
            ),
            timeout=30,
            what="the design event received during the outage to be processed",
        )
        # the relay and the sweep running again send nothing more
        relay.relay_pending()
        receiving.send_waiting()

    sent = [r.body["release_id"] for r in warehouse_stub.received]
    assert sorted(sent) == sorted(str(r.release_id) for r in releases)
    for release in releases:
        assert WarehouseCall.objects.filter(release=release).count() == 1


def test_redis_down_for_6_seconds_under_gunicorn_celery_and_beat_loses_nothing(
    stack, private_redis, warehouse_token, make_caller
):
    import time

    import requests

    from warehouse.integration.choices import CallOutcome

    orders = [order_in(OrderStatus.ALLOCATED) for _ in range(12)]
    OutboxEvent.objects.update(delivered_at=timezone.now())
    token = make_caller(name="coordinator-system").token
    oms = stack(
        REDIS_URL=private_redis.url,
        CELERY_BROKER_URL=private_redis.url,
        OMS_DESIGN_EVENT_SWEEP_SECONDS=2,
        OMS_REDIS_RETRY_SECONDS=0.5,
    )
    oms.web()
    oms.worker()
    oms.simulator(warehouse_token)
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    wait_for(
        lambda: http.get(f"{oms.web_url}/readyz", timeout=5).status_code == 200,
        timeout=60,
        what="OMS ready",
    )

    # given Redis stops for 6 s while clients read and release orders
    private_redis.stop()
    stopped, answers, asked, released = time.monotonic(), [], iter(orders), []
    while time.monotonic() - stopped < 6:
        answers.append(http.get(f"{oms.web_url}/api/v1/orders/?limit=5", timeout=10).status_code)
        order = next(asked, None)
        if order is not None:
            url = f"{oms.web_url}/api/v1/orders/{order.number}/release/"
            answers.append(http.post(url, timeout=10).status_code)
            released.append(order)
    not_ready = http.get(f"{oms.web_url}/readyz", timeout=10).status_code
    private_redis.start()
    back = time.monotonic()

    # then every call succeeded, and every release is sent once soon after Redis is back
    assert all(200 <= status < 300 for status in answers), answers
    assert not_ready == 503
    assert len(released) >= 6
    releases = Release.objects.filter(order__in=released)
    assert releases.count() == len(released)
    wait_for(
        lambda: releases.filter(sent_at__isnull=False).count() == len(released),
        timeout=90,
        what="every release asked for during the outage to be sent",
    )
    sent_after = time.monotonic() - back
    wait_for(
        lambda: releases.filter(status="completed").count() == len(released),
        timeout=90,
        what="the simulated warehouse to complete every release",
    )
    closed_after = time.monotonic() - back
    for release in releases:
        delivered = WarehouseCall.objects.filter(release=release, outcome=CallOutcome.DELIVERED)
        assert delivered.count() == 1
    assert oms.sim_status()["stats"]["releases"] == len(released)
    print(
        f"\nRedis down 6 s: {len(answers)} API calls ({len(released)} releases), all 2xx; "
        f"releases sent {sent_after:.1f} s and completed {closed_after:.1f} s after Redis "
        "was back, each delivered once"
    )
