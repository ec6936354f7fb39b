"""PostgreSQL unreachable: requests answer 503 with Retry-After (problem details under
/api/, a plain page in the back office), never 500, and work again once it is back."""

import pytest
from django.test import Client

from orders.choices import OrderStatus
from tests.apiclient import problem
from tests.factories import order_in

pytestmark = pytest.mark.postgres


@pytest.fixture
def outage_settings(settings):
    settings.OMS_OUTAGE_RETRY_SECONDS = 7
    settings.DEBUG = False  # as in production: errors raised in middleware reach handler500
    return settings


def test_api_reads_and_writes_answer_503_problem_details_with_retry_after(
    cut_database_connection, api, outage_settings
):
    order = order_in(OrderStatus.ALLOCATED)
    cut_database_connection.cut()

    read = api.get("/api/v1/orders/")
    write = api.post(f"/api/v1/orders/{order.number}/release/")
    again = api.get(f"/api/v1/orders/{order.number}/")

    for response in (read, write, again):
        assert response.status_code == 503
        assert response["Retry-After"] == "7"
        assert problem(response)["code"] == "database_unavailable"

    cut_database_connection.restore()
    assert api.get(f"/api/v1/orders/{order.number}/").json()["status"] == "allocated"
    assert api.post(f"/api/v1/orders/{order.number}/release/").status_code == 200


def test_back_office_pages_answer_a_plain_503_page_with_retry_after(
    cut_database_connection, coordinator, outage_settings
):
    signed_in = Client(raise_request_exception=False)
    signed_in.force_login(coordinator)
    cut_database_connection.cut()

    # the session is read in middleware (handler500); the sign-in form in its view
    page = signed_in.get("/orders/")
    login = Client(raise_request_exception=False).post(
        "/login/", {"username": coordinator.username, "password": "x"}
    )

    for response in (page, login):
        assert response.status_code == 503
        assert response["Retry-After"] == "7"
        assert response["Content-Type"].startswith("text/html")
        assert "OMS cannot reach its database" in response.content.decode()

    cut_database_connection.restore()
    assert signed_in.get("/orders/").status_code == 200


def test_only_a_lost_or_refused_connection_counts_as_the_database_being_unreachable():
    from django.db import OperationalError

    from oms import outages

    assert not outages.database_unreachable(OperationalError("deadlock detected"))
    assert not outages.database_unreachable(ValueError("bad"))
