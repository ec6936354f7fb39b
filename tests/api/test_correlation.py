"""One correlation id traces a request through the response, the history, the outbox
and the log lines it caused."""

import json
import logging

import pytest

from oms.logs import ContextFilter, JsonFormatter
from oms.models import OutboxEvent
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_transitions_correlation_id_reaches_history_and_outbox(api):
    order = factories.make_order()
    response = api.post(
        f"/api/v1/orders/{order.number}/approve/", headers={"X-Correlation-ID": "trace-42"}
    )
    assert response.status_code == 200
    assert response["X-Correlation-ID"] == "trace-42"
    assert order.history.first().correlation_id == "trace-42"
    event = OutboxEvent.objects.filter(event_type="order.approved").get()
    assert event.correlation_id == "trace-42"


def test_a_correlation_id_is_made_when_none_is_sent(api):
    response = api.get("/api/v1/orders/")
    assert len(response["X-Correlation-ID"]) == 32


def test_an_invalid_correlation_id_is_replaced(api):
    response = api.get("/api/v1/orders/", headers={"X-Correlation-ID": "bad id with spaces"})
    assert response["X-Correlation-ID"] != "bad id with spaces"


def test_errors_echo_the_correlation_id_too(api):
    response = api.get("/api/v1/nowhere/", headers={"X-Correlation-ID": "trace-404"})
    assert response.status_code == 404 and response["X-Correlation-ID"] == "trace-404"


def test_log_lines_are_json_with_correlation_id_and_client(api, monkeypatch):
    lines = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Capture()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("oms.api")
    logger.addHandler(handler)
    from orders import selectors

    def explode():
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "order_list", explode)
    try:
        api.get("/api/v1/orders/", headers={"X-Correlation-ID": "trace-log"})
    finally:
        logger.removeHandler(handler)
    record = json.loads(lines[0])
    assert record["correlation_id"] == "trace-log"
    assert record["actor"] == f"{api.record.name} (external client)"
    assert record["level"] == "ERROR" and "RuntimeError" in record["exception"]
