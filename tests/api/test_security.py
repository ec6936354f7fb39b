"""Who may call what: tokens, scopes, roles through the session, CSRF, throttling."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
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


# --- Unauthenticated requests are throttled -------------------------------------------------


@pytest.fixture
def anonymous_rate(settings):
    """A low rate for requests without valid credentials, counted from a fresh address."""
    settings.OMS_API_ANON_THROTTLE_RATE = "3/min"
    cache.clear()
    return "192.0.2.77"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer oms_guess_x"}],
    ids=["no credentials", "a wrong token"],
)
def test_unauthenticated_requests_are_throttled_with_retry_after(anonymous_rate, headers):
    client = Client(REMOTE_ADDR=anonymous_rate)
    statuses = [client.get("/api/v1/orders/", headers=headers).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]

    response = client.get("/api/v1/orders/", headers=headers)

    assert response.status_code == 429
    assert problem(response)["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Client(REMOTE_ADDR="192.0.2.78").get("/api/v1/orders/").status_code == 401


def test_the_anonymous_budget_does_not_touch_clients_with_a_token(anonymous_rate, api):
    client = Client(REMOTE_ADDR=anonymous_rate)
    for _ in range(4):
        client.get("/api/v1/orders/")
    api.http.defaults["REMOTE_ADDR"] = anonymous_rate
    assert [api.get("/api/v1/orders/").status_code for _ in range(5)] == [200] * 5


# --- Headers: caching, CSP, Permissions-Policy -------------------------------------------------


def test_signed_in_pages_and_api_answers_are_never_stored(client, api):
    client.force_login(factories.UserFactory(role="viewer"))
    for response in (
        client.get(reverse("home")),
        client.get(reverse("orders:queue")),
        api.get("/api/v1/orders/"),
        Client().get("/api/v1/orders/"),  # a refusal too
        Client().get("/api/v1/orders/?status=%00"),  # refused by middleware
    ):
        assert "no-store" in response["Cache-Control"], response.wsgi_request.path


def test_static_files_may_be_cached_by_a_signed_in_person(client):
    client.force_login(factories.UserFactory(role="viewer"))
    asset = client.get("/static/css/oms.css")
    assert asset.status_code == 200
    assert "no-store" not in asset.get("Cache-Control", "")


def test_pages_carry_a_strict_content_security_policy(client):
    client.force_login(factories.UserFactory(role="viewer"))
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
        "base-uri": "'self'",
        "object-src": "'none'",
    }


def test_templates_have_no_inline_scripts_or_styles():
    """The policy allows neither: every script and style is a static file."""
    inline = []
    for template in (settings.BASE_DIR / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for needle in ("<script>", "<script type=", "<style", "style=", " on", "javascript:"):
            for line in text.splitlines():
                if needle == " on":
                    if re.search(r"\son[a-z]+=", line):
                        inline.append(f"{template.name}: {line.strip()}")
                elif needle in line:
                    inline.append(f"{template.name}: {line.strip()}")
    assert inline == []


def test_htmx_is_told_not_to_add_inline_styles(client):
    page = Client().get(reverse("login")).content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in page


def test_api_docs_load_their_script_from_a_url_not_inline(client):
    docs = client.get(reverse("api:docs")).content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", docs, flags=re.S)
    assert scripts
    assert all("src=" in attributes and not body.strip() for attributes, body in scripts)


def test_pages_deny_device_features_with_a_permissions_policy(client):
    policy = Client().get(reverse("login"))["Permissions-Policy"]
    features = dict(item.split("=") for item in policy.split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()"


# --- HTTPS required: credentials over plain HTTP are refused, not redirected ---------------


@pytest.fixture
def https_required(settings):
    settings.SECURE_SSL_REDIRECT = True


def test_a_plain_http_api_call_with_a_token_is_refused_not_redirected(https_required, api):
    response = api.get("/api/v1/orders/")

    assert response.status_code == 403
    body = problem(response)
    assert body["code"] == "https_required"
    assert body["detail"].startswith("HTTPS is required")
    assert "Location" not in response


def test_a_plain_http_api_call_with_a_session_is_refused(https_required, client):
    client.force_login(factories.UserFactory(role="viewer"))
    response = client.get("/api/v1/orders/")
    assert response.status_code == 403
    assert problem(response)["code"] == "https_required"


def test_over_https_the_token_works_and_pages_are_still_redirected(https_required, api, client):
    token = {"Authorization": f"Bearer {api.token}"}
    assert api.http.get("/api/v1/orders/", secure=True, headers=token).status_code == 200
    page = client.get(reverse("login"))
    assert page.status_code == 301
    assert page["Location"].startswith("https://")
    without_credentials = Client().get("/api/v1/orders/")
    assert without_credentials.status_code == 301
