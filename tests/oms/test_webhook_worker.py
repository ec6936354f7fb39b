"""Webhooks through the real Redis broker and a Celery worker: the retry after a
transient failure is a delayed task that the worker runs when it is due."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from oms import celery_app, webhooks
from oms.models import OutboxEvent, WebhookDelivery
from tests.factories import SETUP
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_worker_delivers_and_retries_after_the_backoff(settings):
    settings.OMS_WEBHOOK_RETRY_BASE_SECONDS = 0.5
    event = OutboxEvent.objects.create(
        event_type="order.approved", aggregate_type="order", aggregate_id="7", payload={}
    )
    celery_app.conf.task_always_eager = False
    try:
        with Receiver() as receiver:
            receiver.script(503, 200)
            webhooks.subscription_create(
                name="erp", url=receiver.url, event_types=["*"], actor=SETUP
            )
            with start_worker(
                celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"
            ):
                webhooks.fan_out([event])
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    delivery = WebhookDelivery.objects.get()
                    if delivery.status != WebhookDelivery.Status.PENDING:
                        break
                    time.sleep(0.1)
            received = list(receiver.received)
    finally:
        celery_app.conf.task_always_eager = True

    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.DELIVERED, 2)
    assert [r.headers["X-OMS-Event-ID"] for r in received] == [str(event.pk)] * 2
