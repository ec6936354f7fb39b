"""Idempotency-Key on POST: replays, mismatches, requests in flight, pruning."""

import datetime
import time

import pytest
from django.conf import settings
from django.utils import timezone

from oms.models import IdempotencyKey
from oms.tasks import prune_idempotency_keys
from orders import services
from orders.choices import OrderStatus
from orders.models import Order
from tests import factories
from tests.apiclient import problem
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db

REASON = {"reason_code": "other", "reason_text": "not needed"}


def approve(caller, order, key, body=None):
    return caller.post(
        f"/api/v1/orders/{order.number}/approve/", body or {}, headers={"Idempotency-Key": key}
    )


def test_a_replay_returns_the_first_outcome_and_does_nothing_again(api):
    order = factories.make_order()
    first = approve(api, order, "k-1")
    again = approve(api, order, "k-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    assert "Idempotent-Replayed" not in first
    assert order.history.filter(status=OrderStatus.APPROVED).count() == 1


def test_a_refusal_is_replayed_too(api):
    order = factories.order_in(OrderStatus.CANCELLED)
    first = approve(api, order, "k-2")
    again = approve(api, order, "k-2")
    assert first.status_code == again.status_code == 409
    assert problem(again) == problem(first)


def test_the_same_key_with_another_body_is_422(api):
    order = factories.order_in(OrderStatus.APPROVED)
    url = f"/api/v1/orders/{order.number}/reject/"
    assert api.post(url, REASON, headers={"Idempotency-Key": "k-3"}).status_code == 200
    other = {**REASON, "reason_text": "something else"}
    response = api.post(url, other, headers={"Idempotency-Key": "k-3"})
    assert response.status_code == 422
    assert problem(response)["code"] == "idempotency_key_reused"


def test_the_same_key_on_another_order_is_422(api):
    first, second = factories.make_order(), factories.make_order()
    assert approve(api, first, "k-4").status_code == 200
    assert approve(api, second, "k-4").status_code == 422
    second.refresh_from_db()
    assert second.status == OrderStatus.DRAFT


def test_a_key_still_in_flight_is_409(api):
    order = factories.make_order()
    IdempotencyKey.objects.create(
        owner=f"client:{api.record.pk}", key="k-5", fingerprint=_fingerprint_of(api, order)
    )
    response = approve(api, order, "k-5")
    assert response.status_code == 409
    assert problem(response)["code"] == "idempotency_key_in_use"
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_an_abandoned_key_is_taken_over(api):
    order = factories.make_order()
    record = IdempotencyKey.objects.create(
        owner=f"client:{api.record.pk}", key="k-6", fingerprint=_fingerprint_of(api, order)
    )
    long_ago = timezone.now() - datetime.timedelta(
        seconds=settings.OMS_IDEMPOTENCY_ABANDONED_SECONDS + 1
    )
    IdempotencyKey.objects.filter(pk=record.pk).update(created_at=long_ago)
    assert approve(api, order, "k-6").status_code == 200


def test_keys_belong_to_their_client(api, make_caller):
    first, second = factories.make_order(), factories.make_order()
    assert approve(api, first, "shared").status_code == 200
    assert approve(make_caller(), second, "shared").status_code == 200


def test_a_server_error_is_not_stored_so_a_retry_runs(api, monkeypatch):
    order = factories.make_order()
    real = services.order_approve

    def broken(**kwargs):
        raise RuntimeError("lost the database")

    monkeypatch.setattr(services, "order_approve", broken)
    assert approve(api, order, "k-7").status_code == 500
    monkeypatch.setattr(services, "order_approve", real)
    retry = approve(api, order, "k-7")
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry


@pytest.mark.parametrize("key", ["", "x" * 201, "two words", "caf\u00e9"])
def test_a_key_not_of_1_to_200_visible_ascii_characters_is_400_naming_the_header(api, key):
    order = factories.make_order()
    response = approve(api, order, key)
    assert response.status_code == 400
    assert [e["field"] for e in problem(response)["errors"]] == ["Idempotency-Key"]
    assert not IdempotencyKey.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_every_key_the_schema_allows_is_taken(api):
    order = factories.make_order()
    key = "".join(chr(c) for c in range(0x21, 0x7F)) + "~" * 106
    assert len(key) == 200
    assert approve(api, order, key).status_code == 200


def test_old_keys_are_pruned_by_the_beat_task(api):
    order = factories.make_order()
    approve(api, order, "old")
    approve(api, factories.make_order(), "new")
    hours = settings.OMS_IDEMPOTENCY_TTL_HOURS
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - datetime.timedelta(hours=hours, minutes=1)
    )
    assert prune_idempotency_keys.delay().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    schedule = settings.CELERY_BEAT_SCHEDULE["prune-idempotency-keys"]
    assert schedule["task"] == "oms.tasks.prune_idempotency_keys"


def _fingerprint_of(api, order) -> str:
    """The fingerprint a POST {} to approve this order has."""
    from django.test import RequestFactory

    from oms.api.idempotency import _fingerprint

    request = RequestFactory().post(
        f"/api/v1/orders/{order.number}/approve/", {}, content_type="application/json"
    )
    return _fingerprint(request)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_run_once(make_caller, monkeypatch):
    caller = make_caller()
    order = factories.make_order()
    real = services.order_approve

    def slow_approve(**kwargs):
        time.sleep(0.5)
        return real(**kwargs)

    monkeypatch.setattr(services, "order_approve", slow_approve)
    responses = at_once(*[lambda: approve(caller, order, "race")] * 2)

    assert sorted(r.status_code for r in responses) == [200, 409]
    conflict = next(r for r in responses if r.status_code == 409)
    assert problem(conflict)["code"] == "idempotency_key_in_use"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.APPROVED
    assert order.history.filter(status=OrderStatus.APPROVED).count() == 1
    # Once the first has finished, a retry is a replay.
    replay = approve(caller, order, "race")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
