"""What the OpenAPI schema does not allow is refused with 400 naming the parameter or
field, never read as something else: paging, filters, and JSON types in bodies."""

import pytest

from oms.filters import StrictFilterSet
from orders.choices import OrderStatus
from tests import factories
from tests.apiclient import problem

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/orders/",
    "/api/v1/projects/",
    "/api/v1/items/",
    "/api/v1/kits/",
    "/api/v1/stock-levels/",
    "/api/v1/design-events/",
    "/api/v1/allocation-runs/",
]


def refused(response, parameter):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return [e["field"] for e in problem(response)["errors"]] == [parameter]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("limit", "0"),
        ("limit", "201"),
        ("limit", "ten"),
        ("limit", "5.5"),
        ("limit", ""),
        ("offset", "-1"),
        ("offset", "1e3"),
        ("offset", "99999999999999999999"),
    ],
)
def test_a_bad_limit_or_offset_is_400_naming_it(api, path, parameter, value):
    assert refused(api.get(path, {parameter: value}), parameter)


def test_limit_and_offset_within_bounds_page_the_list(api):
    factories.make_order()
    factories.make_order()
    body = api.get("/api/v1/orders/", {"limit": "200", "offset": "1"}).json()
    assert body["count"] == 2 and len(body["results"]) == 1


@pytest.mark.parametrize(
    ("path", "parameter", "value"),
    [
        ("/api/v1/stock-levels/", "below_minimum", "null"),
        ("/api/v1/stock-levels/", "below_minimum", "yes"),
        ("/api/v1/stock-levels/", "category", "no-such-category"),
        ("/api/v1/orders/", "gated", "unknown"),
        ("/api/v1/orders/", "jeopardy", "1x"),
        ("/api/v1/orders/", "status", "nearly-done"),
        ("/api/v1/orders/", "updated_since", "2026-11-01"),
        ("/api/v1/orders/", "updated_since", ""),
        ("/api/v1/orders/", "gated", ""),
        ("/api/v1/projects/", "status", "sleeping"),
        ("/api/v1/projects/", "updated_since", "soon"),
        ("/api/v1/allocation-runs/", "dry_run", "maybe"),
        ("/api/v1/design-events/", "status", "lost"),
        ("/api/v1/items/", "lifecycle", "immortal"),
    ],
)
def test_a_bad_filter_value_is_400_naming_the_filter(api, path, parameter, value):
    assert refused(api.get(path, {parameter: value}), parameter)


def test_a_boolean_filter_takes_true_and_false(api):
    factories.make_order(gated=True, gate_reason="permits")
    factories.make_order()
    gated = api.get("/api/v1/orders/", {"gated": "true"}).json()
    free = api.get("/api/v1/orders/", {"gated": "false"}).json()
    assert (gated["count"], free["count"]) == (1, 1)


def test_the_event_feed_refuses_an_empty_type_and_a_loose_number(api):
    assert refused(api.get("/api/v1/events/", {"type": ""}), "type")
    assert refused(api.get("/api/v1/events/", {"limit": "5.0"}), "limit")
    assert refused(api.get("/api/v1/events/", {"after": " 5"}), "after")


def test_a_filterset_with_a_lenient_filter_is_refused_at_import():
    import django_filters
    from django.core.exceptions import ImproperlyConfigured

    from orders.models import Order

    with pytest.raises(ImproperlyConfigured, match="YesNoFilter"):

        class Lenient(StrictFilterSet):
            gated = django_filters.BooleanFilter()

            class Meta:
                model = Order
                fields: list[str] = []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason_code": "other", "reason_text": 5}, "reason_text"),
        ({"reason_code": "other", "reason_text": "   "}, "reason_text"),
        ({"reason_code": True, "reason_text": "x"}, "reason_code"),
    ],
)
def test_a_body_with_another_json_type_is_400_naming_the_field(api, body, field):
    order = factories.make_order()
    response = api.post(f"/api/v1/orders/{order.number}/reject/", body)
    assert refused(response, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dry_run": "true"}, "dry_run"),
        ({"dry_run": 1}, "dry_run"),
    ],
)
def test_a_boolean_in_a_body_is_true_or_false(api, body, field):
    assert refused(api.post("/api/v1/allocation-runs/", body), field)


def test_an_integer_may_be_written_with_a_zero_fraction(api):
    order = factories.order_in(OrderStatus.DRAFT)
    line = order.lines.first()
    response = api.patch(
        f"/api/v1/orders/{order.number}/",
        {"update": [{"line": line.pk, "quantity": 4.0}]},
        headers={"If-Match": f'"{order.version}"'},
    )
    assert response.status_code == 200
    line.refresh_from_db()
    assert line.quantity == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"project_id": "P-1", "site_code": "S", "market": "NYC", "plan_type": 3}, "plan_type"),
        (
            {
                "project_id": "P-1",
                "site_code": "S",
                "market": "NYC",
                "plan_type": "coverage",
                "latitude": "40.1",
                "longitude": 3,
            },
            "latitude",
        ),
        (
            {
                "project_id": "P-1",
                "site_code": "S",
                "market": "NYC",
                "plan_type": "coverage",
                "on_air_on": "20260101",
            },
            "on_air_on",
        ),
    ],
)
def test_one_project_with_a_wrong_json_type_is_400_naming_the_field(api, body, field):
    assert refused(api.post("/api/v1/projects/", body), field)
