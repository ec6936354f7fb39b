"""The OpenAPI schema is generated, valid, documents every endpoint's scope and
errors, and the API answers as it says (schemathesis, in process)."""

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from oms.wsgi import application
from orders.choices import OrderStatus
from tests import factories

EXAMPLES = 25

pytestmark = pytest.mark.django_db


def test_the_schema_validates(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml")


def test_every_operation_names_its_scope_and_errors(client):
    schema = client.get("/api/v1/schema/", headers={"Accept": "application/json"}).json()
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "patch"}
    ]
    assert len(operations) >= 17
    for path, method, op in operations:
        if path.endswith(("/schema/", "/docs/")):
            continue
        assert "**Scope:** `" in op["description"], (path, method)
        assert {"401", "403", "429", "500"} <= op["responses"].keys(), (path, method)
        if method in {"post", "patch"}:
            assert {"400", "409", "415", "422"} <= op["responses"].keys(), (path, method)
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.fixture
def keep_test_connection():
    """The WSGI app closes the database connection around each request, as it should in
    production; the test's transaction needs it open (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(make_caller, keep_test_connection):
    caller = make_caller()
    factories.order_in(OrderStatus.ALLOCATED)
    loaded = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    headers = {"Authorization": f"Bearer {caller.token}"}
    return loaded.include(path_regex="^/api/v1/(?!schema|docs)"), headers


def test_the_api_answers_as_its_schema_says(api_schema):
    """Every operation, with generated valid and invalid input: no 5xx, and every
    response (status, content type, body) as the schema documents it."""
    loaded, headers = api_schema
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) >= 17
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(
                headers=headers,
                excluded_checks=[positive_data_acceptance, negative_data_rejection],
            )

        check()


def test_the_schema_declares_headers_paging_and_bodies_as_the_server_enforces_them(client):
    schema = client.get("/api/v1/schema/", headers={"Accept": "application/json"}).json()
    paths = schema["paths"]

    def parameter(path, method, name):
        (found,) = [p for p in paths[path][method]["parameters"] if p["name"] == name]
        return found

    key = parameter("/api/v1/orders/{number}/approve/", "post", "Idempotency-Key")
    assert key["schema"]["pattern"] == "^[\\x21-\\x7E]{1,200}$"
    patch_if_match = parameter("/api/v1/orders/{number}/", "patch", "If-Match")
    assert patch_if_match["required"] is True
    assert {"412", "428"} <= paths["/api/v1/orders/{number}/"]["patch"]["responses"].keys()
    approve_if_match = parameter("/api/v1/orders/{number}/approve/", "post", "If-Match")
    assert not approve_if_match.get("required")
    assert parameter("/api/v1/orders/", "get", "limit")["schema"] | {"type": "integer"} == {
        "type": "integer",
        "minimum": 1,
        "maximum": 200,
    }
    assert parameter("/api/v1/orders/", "get", "offset")["schema"]["minimum"] == 0
    assert paths["/api/v1/projects/"]["post"]["requestBody"]["required"] is True
    receipt = schema["components"]["schemas"]["StockReceiptInputRequest"]
    assert receipt["properties"]["quantity"]["minimum"] == 1
