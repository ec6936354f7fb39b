"""Log lines name who acted. A line written after the request's own code has returned
(Django logs a 4xx or 5xx answer then) names the signed-in person the request read,
and never loads the person itself: the database may be why the line is written."""

import logging

import pytest
from django.test import RequestFactory
from django.utils.functional import SimpleLazyObject

from oms.logs import ContextFilter

pytestmark = pytest.mark.django_db


def _actor_logged(request) -> str:
    record = logging.LogRecord("django.request", logging.WARNING, "", 0, "Not Found", (), None)
    record.request = request
    ContextFilter().filter(record)
    return record.actor


def test_a_line_about_a_signed_in_request_names_the_person(coordinator_client, coordinator):
    seen = []

    class Capture(logging.Handler):
        def emit(self, record):
            seen.append(record.actor)

    handler = Capture()
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = coordinator_client.get("/orders/NO-SUCH-ORDER/")
    finally:
        logger.removeHandler(handler)

    assert response.status_code == 404
    assert seen == [coordinator.username]


def test_a_person_the_request_never_read_is_not_loaded_for_the_log():
    loaded = []
    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(lambda: loaded.append(True))

    assert _actor_logged(request) == "-"
    assert loaded == []


def test_a_person_the_request_read_is_named(coordinator):
    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(lambda: coordinator)
    request.user_read = True

    assert _actor_logged(request) == coordinator.username
