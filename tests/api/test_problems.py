"""Every error under /api/ is a problem details document, never an HTML page."""

import json

import pytest
from django.test import Client, override_settings

from orders.choices import OrderStatus
from tests import factories
from tests.apiclient import problem

pytestmark = pytest.mark.django_db


def test_unknown_url_is_404_problem(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


def test_unknown_order_is_404_problem(api):
    response = api.get("/api/v1/orders/MO-9999999/")
    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


def test_wrong_method_is_405_problem(api):
    response = api.delete("/api/v1/orders/")
    assert response.status_code == 405
    assert problem(response)["code"] == "method_not_allowed"


def test_wrong_content_type_is_415_problem(api):
    order = factories.make_order()
    response = api.post(
        f"/api/v1/orders/{order.number}/reject/", "reason", content_type="text/plain"
    )
    assert response.status_code == 415
    assert problem(response)["code"] == "unsupported_media_type"


def test_malformed_json_is_400_problem(api):
    order = factories.make_order()
    response = api.post(f"/api/v1/orders/{order.number}/reject/", "{not json")
    assert response.status_code == 400
    assert problem(response)["code"] == "parse_error"


@override_settings(OMS_API_MAX_BODY_BYTES=100)
def test_body_over_the_limit_is_413_problem(api):
    order = factories.make_order()
    body = json.dumps({"reason_code": "other", "reason_text": "x" * 200})
    response = api.post(f"/api/v1/orders/{order.number}/reject/", body)
    assert response.status_code == 413
    assert problem(response)["code"] == "payload_too_large"


def test_field_errors_are_listed(api):
    order = factories.order_in(OrderStatus.APPROVED)
    response = api.post(f"/api/v1/orders/{order.number}/reject/", {"reason_code": "bogus"})
    assert response.status_code == 400
    body = problem(response)
    fields = {error["field"]: error for error in body["errors"]}
    assert set(fields) == {"reason_code", "reason_text"}
    assert fields["reason_text"]["code"] == "required"


def test_a_domain_rule_is_422_with_each_problem(api):
    project = factories.ProjectFactory(status="on_hold")
    order = factories.make_order(project=project)
    response = api.post(f"/api/v1/orders/{order.number}/approve/")
    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "approval_blocked"
    assert [e["code"] for e in body["errors"]] == ["project_inactive"]


def test_a_transition_from_the_wrong_status_is_409(api):
    order = factories.order_in(OrderStatus.CANCELLED)
    response = api.post(f"/api/v1/orders/{order.number}/approve/")
    assert response.status_code == 409
    assert problem(response)["code"] == "transition_not_allowed"


def test_a_crash_is_a_500_problem_without_details(api, monkeypatch):
    from orders import selectors

    def explode():
        raise RuntimeError("database on fire")

    monkeypatch.setattr(selectors, "order_list", explode)
    response = api.get("/api/v1/orders/")
    assert response.status_code == 500
    body = problem(response)
    assert body["code"] == "server_error" and "fire" not in body["detail"]


def test_a_crash_outside_a_view_is_a_500_problem(api, monkeypatch):
    from oms.api import authentication

    def explode(token):
        raise RuntimeError("boom")

    monkeypatch.setattr(authentication, "client_for_token", explode)
    http = Client(raise_request_exception=False)
    response = http.get("/api/v1/orders/", headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == 500
    assert problem(response)["code"] == "server_error"


def test_pages_outside_the_api_keep_html_errors(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/problem+json")
