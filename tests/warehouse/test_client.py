"""The warehouse client: what a release request carries, and which failures a retry
could fix (connection errors, timeouts, 429, 502, 503, 504) and which not."""

import socket

import pytest

from oms import correlation
from tests.warehouse.stub_server import Reply
from warehouse.integration import client

pytestmark = pytest.mark.django_db


def test_a_release_request_carries_the_release_its_id_as_idempotency_key_and_the_trace(
    released, warehouse_stub
):
    order, release = released

    with correlation.use("trace-wh-1"):
        result = client.post_release(release)

    (request,) = warehouse_stub.received
    assert result.ok and result.status_code == 202 and not result.error
    assert request.path == "/releases"
    assert request.headers["Idempotency-Key"] == str(release.release_id)
    assert request.headers["X-Correlation-ID"] == "trace-wh-1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {
        "release_id": str(release.release_id),
        "order": order.number,
        "warehouse": release.warehouse.code,
        "project": order.project.external_id,
        "site_code": order.project.site_code,
        "need_by": order.need_by.isoformat(),
        "priority": order.national_priority,
        "lines": [{"item": "ANT-T1", "quantity": 2}, {"item": "RRU-T1", "quantity": 3}],
    }
    assert result.summary == f"release {order.number}: 2 lines to {release.warehouse.code}"


def test_a_warehouse_of_its_own_url_is_called_there(released, warehouse_stub, settings):
    _, release = released
    settings.OMS_WAREHOUSE_URL = "http://127.0.0.1:9/unused"
    release.warehouse.api_url = warehouse_stub.url + "/wms/"

    result = client.post_release(release)

    assert result.ok
    assert warehouse_stub.received[0].path == "/wms/releases"


def test_the_token_for_the_warehouse_is_sent_when_configured(released, warehouse_stub, settings):
    settings.OMS_WAREHOUSE_TOKEN = "wms-secret"

    client.post_release(released[1])

    assert warehouse_stub.received[0].headers["Authorization"] == "Bearer wms-secret"


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_overload_and_gateway_answers_are_transient(status, released, warehouse_stub):
    warehouse_stub.answer(Reply(status, {"detail": "busy"}, {"Retry-After": "7"}))

    result = client.post_release(released[1])

    assert not result.ok and result.transient
    assert result.status_code == status
    assert result.retry_after == 7.0
    assert result.error.startswith(str(status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500, 501])
def test_other_answers_are_not_transient(status, released, warehouse_stub):
    warehouse_stub.answer(Reply(status, {"detail": "no"}))

    result = client.post_release(released[1])

    assert not result.ok and not result.transient
    assert result.status_code == status


def test_a_refused_connection_is_transient(released, settings):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.OMS_WAREHOUSE_URL = f"http://127.0.0.1:{port}"

    result = client.post_release(released[1])

    assert result.transient and result.status_code is None
    assert result.error.startswith("connection failed")


def test_an_answer_later_than_the_timeout_is_transient(released, warehouse_stub):
    warehouse_stub.answer(Reply(202, delay=1.5))

    result = client.post_release(released[1])

    assert result.transient and result.status_code is None
    assert result.error.startswith("timed out")
    assert 400 <= result.latency_ms < 1500


def test_no_warehouse_url_is_a_failure_no_retry_can_fix(released, settings):
    settings.OMS_WAREHOUSE_URL = ""

    result = client.post_release(released[1])

    assert not result.ok and not result.transient
    assert "OMS_WAREHOUSE_URL" in result.error
