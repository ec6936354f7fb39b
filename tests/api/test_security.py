"""Who may call what: tokens, scopes, roles through the session, CSRF, throttling."""

import pytest
from django.test import Client
from django.urls import reverse

from allocation.models import AllocationRun
from oms.actors import Actor
from oms.clients import api_client_revoke, api_client_rotate
from oms.scopes import Scope
from orders import ingestion
from orders.choices import OrderStatus
from tests import factories
from tests.apiclient import problem

pytestmark = pytest.mark.django_db

# Every endpoint: method, path (with {order} for an order number), and its scope.
ENDPOINTS = [
    ("get", "/api/v1/orders/", Scope.ORDERS_READ),
    ("get", "/api/v1/orders/{order}/", Scope.ORDERS_READ),
    ("patch", "/api/v1/orders/{order}/", Scope.ORDERS_WRITE),
    ("get", "/api/v1/orders/{order}/timeline/", Scope.ORDERS_READ),
    ("get", "/api/v1/orders/{order}/revisions/", Scope.ORDERS_READ),
    ("post", "/api/v1/orders/{order}/approve/", Scope.ORDERS_WRITE),
    ("post", "/api/v1/orders/{order}/reject/", Scope.ORDERS_WRITE),
    ("post", "/api/v1/orders/{order}/cancel/", Scope.ORDERS_WRITE),
    ("post", "/api/v1/orders/{order}/reopen/", Scope.ORDERS_WRITE),
    ("post", "/api/v1/orders/{order}/release/", Scope.ORDERS_WRITE),
    ("post", "/api/v1/orders/{order}/resolve-return/", Scope.ORDERS_WRITE),
    ("get", "/api/v1/projects/", Scope.ORDERS_READ),
    ("get", "/api/v1/projects/{project}/", Scope.ORDERS_READ),
    ("get", "/api/v1/items/", Scope.CATALOG_READ),
    ("get", "/api/v1/items/{item}/", Scope.CATALOG_READ),
    ("get", "/api/v1/kits/", Scope.CATALOG_READ),
    ("get", "/api/v1/stock-levels/", Scope.STOCK_READ),
    ("get", "/api/v1/events/", Scope.EVENTS_READ),
    ("post", "/api/v1/projects/", Scope.PLANNING_WRITE),
    ("post", "/api/v1/design-events/", Scope.ENGINEERING_WRITE),
    ("get", "/api/v1/design-events/", Scope.ORDERS_READ),
    ("get", "/api/v1/design-events/{event}/", Scope.ORDERS_READ),
    ("post", "/api/v1/design-events/{event}/correct/", Scope.ORDERS_WRITE),
    ("post", "/api/v1/design-events/{event}/reprocess/", Scope.ORDERS_WRITE),
    ("get", "/api/v1/allocation-runs/", Scope.ORDERS_READ),
    ("post", "/api/v1/allocation-runs/", Scope.ALLOCATION_RUN),
    ("get", "/api/v1/allocation-runs/{run}/", Scope.ORDERS_READ),
    ("get", "/api/v1/allocation-runs/{run}/outcomes/", Scope.ORDERS_READ),
]


@pytest.fixture
def urls():
    order = factories.make_order()
    event = ingestion.receive({"event_id": "evt-sec"}, received_from="tests").event
    run = AllocationRun.objects.create(
        trigger="command", requested_by_kind="system", requested_by_name="tests"
    )
    AllocationRun.objects.filter(pk=run.pk).update(status="succeeded", active=None)
    return lambda path: path.format(
        run=run.pk,
        order=order.number,
        project=order.project.external_id,
        item=order.lines.first().item.code,
        event=event.event_id,
    )


@pytest.mark.parametrize(("method", "path", "scope"), ENDPOINTS)
def test_no_token_is_401(method, path, scope, urls):
    response = getattr(Client(), method)(urls(path), content_type="application/json")
    assert response.status_code == 401
    assert problem(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="oms"'


@pytest.mark.parametrize(("method", "path", "scope"), ENDPOINTS)
def test_wrong_scope_is_403(method, path, scope, urls, make_caller):
    others = [s for s in Scope.values if s != scope]
    response = getattr(make_caller(*others), method)(urls(path))
    assert response.status_code == 403
    assert scope in problem(response)["detail"]


@pytest.mark.parametrize(("method", "path", "scope"), [e for e in ENDPOINTS if e[0] == "get"])
def test_the_right_scope_reads(method, path, scope, urls, make_caller):
    assert make_caller(scope).get(urls(path)).status_code == 200


def test_unknown_token_is_401():
    response = Client().get("/api/v1/orders/", headers={"Authorization": "Bearer oms_nope_x"})
    assert response.status_code == 401
    assert problem(response)["code"] == "authentication_failed"


def test_token_is_stored_only_as_a_digest(api):
    api.record.refresh_from_db()
    assert api.token not in (api.record.token_digest, api.record.token_prefix)
    assert api.token.startswith(api.record.token_prefix)


def test_revoked_client_is_refused_at_once(api):
    assert api.get("/api/v1/orders/").status_code == 200
    api_client_revoke(client=api.record, actor=Actor.system("tests"))
    assert api.get("/api/v1/orders/").status_code == 401


def test_rotation_replaces_the_token(api):
    new_token = api_client_rotate(client=api.record, actor=Actor.system("tests"))
    assert api.get("/api/v1/orders/").status_code == 401
    api.token = new_token
    assert api.get("/api/v1/orders/").status_code == 200
    record = api.record.history.first()
    assert (record.actor_name, record.history_change_reason) == ("tests", "API token rotated")


def test_a_viewer_reads_through_the_session_but_cannot_approve(client):
    client.force_login(factories.UserFactory(role="viewer"))
    order = factories.make_order()
    assert client.get(f"/api/v1/orders/{order.number}/").status_code == 200
    response = client.post(f"/api/v1/orders/{order.number}/approve/", {}, "application/json")
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_a_coordinator_approves_through_the_session_and_is_the_actor(client):
    coordinator = factories.UserFactory(role="coordinator")
    client.force_login(coordinator)
    order = factories.make_order()
    response = client.post(f"/api/v1/orders/{order.number}/approve/", {}, "application/json")
    assert response.status_code == 200, response.content
    record = order.history.first()
    assert (record.actor_kind, record.history_user) == ("person", coordinator)


def test_session_writes_need_the_csrf_token():
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(factories.UserFactory(role="coordinator"))
    order = factories.make_order()
    response = csrf_client.post(f"/api/v1/orders/{order.number}/approve/", {}, "application/json")
    assert response.status_code == 403
    assert "CSRF" in problem(response)["detail"]
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_a_client_acts_with_its_own_name(api):
    order = factories.make_order()
    assert api.post(f"/api/v1/orders/{order.number}/approve/").status_code == 200
    record = order.history.first()
    assert (record.actor_kind, record.actor_name) == ("client", api.record.name)


def test_throttled_client_gets_429_with_retry_after(make_caller):
    caller = make_caller(Scope.ORDERS_READ, throttle_rate="2/min")
    assert [caller.get("/api/v1/orders/").status_code for _ in range(2)] == [200, 200]
    response = caller.get("/api/v1/orders/")
    assert response.status_code == 429
    assert problem(response)["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_throttle_budgets_are_per_client(make_caller):
    first = make_caller(Scope.ORDERS_READ, throttle_rate="1/min")
    second = make_caller(Scope.ORDERS_READ, throttle_rate="1/min")
    assert first.get("/api/v1/orders/").status_code == 200
    assert first.get("/api/v1/orders/").status_code == 429
    assert second.get("/api/v1/orders/").status_code == 200


def test_docs_and_schema_need_no_token_and_use_no_cdn(client):
    schema = client.get(reverse("api:schema"), headers={"Accept": "application/json"})
    assert schema.status_code == 200
    docs = client.get(reverse("api:docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
