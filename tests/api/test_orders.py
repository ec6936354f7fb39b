"""Order, project, catalog, stock and event endpoints: reads, filters, enrichment with
ETag/If-Match, and one endpoint per transition."""

import datetime

import pytest
from django.utils import timezone

from catalog.choices import ItemLifecycle
from oms.models import OutboxEvent
from oms.scopes import Scope
from orders.choices import OrderKind, OrderStatus, ReasonCode
from orders.models import Order
from tests import factories
from tests.apiclient import problem

pytestmark = pytest.mark.django_db


def url(order, action=""):
    return f"/api/v1/orders/{order.number}/" + (f"{action}/" if action else "")


# --- Lists and filters ------------------------------------------------------------------


def test_list_is_paginated_newest_change_first(api):
    orders = [factories.make_order() for _ in range(3)]
    body = api.get("/api/v1/orders/", {"limit": 2}).json()
    assert body["count"] == 3
    assert [o["number"] for o in body["results"]] == [orders[2].number, orders[1].number]
    rest = api.get("/api/v1/orders/", {"limit": 2, "offset": 2}).json()
    assert [o["number"] for o in rest["results"]] == [orders[0].number]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "approved"}, {"approved"}),
        ({"status": ["draft", "cancelled"]}, {"draft", "cancelled"}),
        ({"market": "NYC"}, {"nyc"}),
        ({"region": "WEST"}, {"nyc"}),
        ({"priority": "1"}, {"urgent"}),
        ({"gated": "true"}, {"gated"}),
        ({"has_reason": "true"}, {"cancelled"}),
        ({"q": "SITE-NYC"}, {"nyc"}),
        ({"order_type": "power"}, {"power"}),
    ],
)
def test_list_filters(api, params, expected):
    west = factories.RegionFactory(code="WEST", name="West")
    nyc_project = factories.ProjectFactory(
        site_code="SITE-NYC-1", market=factories.MarketFactory(code="NYC", region=west)
    )
    made = {
        "approved": factories.order_in(OrderStatus.APPROVED),
        "draft": factories.make_order(),
        "cancelled": factories.order_in(OrderStatus.CANCELLED),
        "nyc": factories.make_order(project=nyc_project),
        "urgent": factories.make_order(national_priority=1),
        "gated": factories.make_order(gated=True, gate_reason="Permits not approved"),
        "power": factories.make_order(order_type="power"),
    }
    names = {order.number: name for name, order in made.items()}
    response = api.get("/api/v1/orders/", params)
    assert response.status_code == 200
    found = {names[o["number"]] for o in response.json()["results"]}
    if params.get("status") == ["draft", "cancelled"] or params == {"status": "approved"}:
        found = {Order.objects.get(number=o["number"]).status for o in response.json()["results"]}
    assert found == expected


def test_updated_since_filter(api):
    old = factories.make_order()
    Order.objects.filter(pk=old.pk).update(updated_at=timezone.now() - datetime.timedelta(days=2))
    new = factories.make_order()
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    results = api.get("/api/v1/orders/", {"updated_since": since}).json()["results"]
    assert [o["number"] for o in results] == [new.number]


def test_bad_filter_value_is_400(api):
    response = api.get("/api/v1/orders/", {"status": "flying"})
    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "status"


def test_list_runs_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    for _ in range(3):
        factories.make_order()
    with django_assert_max_num_queries(6) as few:
        api.get("/api/v1/orders/")
    for _ in range(10):
        factories.make_order()
    with django_assert_max_num_queries(len(few.captured_queries)):
        api.get("/api/v1/orders/")


# --- Detail -----------------------------------------------------------------------------


def test_detail_shows_lines_family_reason_and_allowed_transitions(api):
    parent = factories.order_in(OrderStatus.CLOSED)
    child = factories.services.order_create(
        project=parent.project,
        order_type=parent.order_type,
        plan_type=parent.plan_type,
        national_priority=2,
        need_by=datetime.date(2026, 12, 1),
        lines=[factories.services.LineSpec(item=factories.ItemFactory(), quantity=3)],
        actor=factories.SETUP,
        kind=OrderKind.SUPPLEMENTAL,
        parent=parent,
    )
    body = api.get(url(parent)).json()
    assert body["status"] == "closed"
    assert body["children"] == [{"number": child.number, "status": "draft", "kind": "supplemental"}]
    line = body["lines"][0]
    assert (line["quantity"], line["released_quantity"], line["allocated_quantity"]) == (5, 5, 0)
    assert set(body["allowed_transitions"]) == set()  # closed: nothing through this API yet
    child_body = api.get(url(child)).json()
    assert child_body["parent"]["number"] == parent.number
    assert set(child_body["allowed_transitions"]) == {"approve", "cancel", "edit-lines"}


def test_allowed_transitions_follow_the_callers_scope(make_caller):
    order = factories.make_order()
    reader = make_caller(Scope.ORDERS_READ)
    assert reader.get(url(order)).json()["allowed_transitions"] == []


def test_detail_shows_the_rejection_reason(api):
    order = factories.order_in(OrderStatus.APPROVED)
    factories.services.order_reject(
        order=order,
        actor=factories.SETUP,
        reason_code=ReasonCode.DATA_MISMATCH,
        reason_text="Wrong radios",
    )
    reason = api.get(url(order)).json()["reason"]
    assert reason == {
        "code": "data_mismatch",
        "label": ReasonCode.DATA_MISMATCH.label,
        "text": "Wrong radios",
    }


def test_detail_carries_an_etag_and_answers_304_when_unchanged(api):
    order = factories.make_order()
    first = api.get(url(order))
    assert first["ETag"] == f'"{order.version}"'
    again = api.get(url(order), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304


def test_timeline_lists_who_changed_what(api):
    order = factories.make_order()
    api.post(url(order, "approve"))
    entries = api.get(url(order, "timeline")).json()
    newest = entries[0]
    assert (newest["subject"], newest["action"], newest["actor_kind"]) == (
        "order",
        "changed",
        "client",
    )
    assert {"field": "status", "label": "status", "old": "Draft", "new": "Approved"} in newest[
        "changes"
    ]


def test_revisions_list_their_delta(api):
    order = factories.make_order()
    revisions = api.get(url(order, "revisions")).json()["results"]
    assert [r["number"] for r in revisions] == [1]
    assert revisions[0]["delta"]["lines"]["added"][0]["quantity"] == 5


# --- Enrichment with If-Match -----------------------------------------------------------


def test_patch_without_if_match_is_428(api):
    order = factories.make_order()
    line = order.lines.get()
    response = api.patch(url(order), {"update": [{"line": line.pk, "quantity": 9}]})
    assert response.status_code == 428
    assert problem(response)["code"] == "precondition_required"


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(api):
    order = factories.make_order()
    line = order.lines.get()
    stale = api.get(url(order))["ETag"]
    api.post(url(order, "approve"))
    api.post(url(order, "reject"), {"reason_code": "other", "reason_text": "again"})
    response = api.patch(
        url(order), {"update": [{"line": line.pk, "quantity": 9}]}, headers={"If-Match": stale}
    )
    assert response.status_code == 412
    line.refresh_from_db()
    assert line.quantity == 5


def test_patch_edits_lines_and_returns_the_new_etag(api):
    order = factories.make_order()
    line = order.lines.get()
    new_item = factories.ItemFactory()
    etag = api.get(url(order))["ETag"]
    response = api.patch(
        url(order),
        {
            "update": [{"line": line.pk, "quantity": 9}],
            "add": [{"item": new_item.code, "quantity": 2}],
        },
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] != etag
    lines = {ln["item"]: ln for ln in response.json()["lines"]}
    assert lines[line.item.code]["quantity"] == 9
    assert lines[new_item.code]["source"] == "manual"


def test_two_editors_with_the_same_etag_cannot_both_win(api, make_caller):
    order = factories.make_order()
    line = order.lines.get()
    etag = api.get(url(order))["ETag"]
    other = make_caller()
    first = api.patch(
        url(order), {"update": [{"line": line.pk, "quantity": 7}]}, headers={"If-Match": etag}
    )
    second = other.patch(
        url(order), {"update": [{"line": line.pk, "quantity": 8}]}, headers={"If-Match": etag}
    )
    assert (first.status_code, second.status_code) == (200, 412)
    line.refresh_from_db()
    assert line.quantity == 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"update": [{"line": 1, "quantity": 0}]}, "update[0].quantity"),
        ({"update": [{"line": 1, "quantity": "5"}]}, "update[0].quantity"),
        ({"add": [{"item": 7, "quantity": 1}]}, "add[0].item"),
        ({"remove": [True]}, "remove[0]"),
    ],
)
def test_patch_bad_input_is_400(api, body, field):
    order = factories.make_order()
    response = api.patch(url(order), body, headers={"If-Match": f'"{order.version}"'})
    assert response.status_code == 400
    assert field in [e["field"] for e in problem(response)["errors"]]


def test_patch_with_an_unknown_item_is_422_naming_it(api):
    order = factories.make_order()
    response = api.patch(
        url(order),
        {"add": [{"item": "NO-SUCH-ITEM", "quantity": 1}]},
        headers={"If-Match": f'"{order.version}"'},
    )
    assert response.status_code == 422
    assert [e["field"] for e in problem(response)["errors"]] == ["add[0].item"]


def test_an_empty_patch_changes_nothing(api):
    order = factories.make_order()
    response = api.patch(url(order), {}, headers={"If-Match": f'"{order.version}"'})
    assert response.status_code == 200
    assert response["ETag"] == f'"{order.version}"'
    assert Order.objects.get(pk=order.pk).version == order.version


def test_patch_with_an_inactive_item_is_422(api):
    order = factories.make_order()
    old = factories.ItemFactory(lifecycle=ItemLifecycle.DISCONTINUED)
    response = api.patch(
        url(order),
        {"add": [{"item": old.code, "quantity": 1}]},
        headers={"If-Match": f'"{order.version}"'},
    )
    assert response.status_code == 422
    assert problem(response)["errors"]


def test_patch_of_an_approved_order_is_409(api):
    order = factories.order_in(OrderStatus.APPROVED)
    line = order.lines.get()
    response = api.patch(
        url(order),
        {"update": [{"line": line.pk, "quantity": 2}]},
        headers={"If-Match": f'"{order.version}"'},
    )
    assert response.status_code == 409


# --- Transitions ------------------------------------------------------------------------


def test_approve(api):
    order = factories.make_order()
    response = api.post(url(order, "approve"))
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response["ETag"] == f'"{order.version + 1}"'


def test_transition_with_a_stale_if_match_is_412(api):
    order = factories.make_order()
    response = api.post(url(order, "approve"), headers={"If-Match": '"999"'})
    assert response.status_code == 412
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_reject_needs_a_reason_and_shows_it(api):
    order = factories.order_in(OrderStatus.ALLOCATED)
    missing = api.post(url(order, "reject"), {"reason_code": "other"})
    assert missing.status_code == 400
    response = api.post(
        url(order, "reject"), {"reason_code": "data_mismatch", "reason_text": "Wrong site"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["reason"]["text"]) == ("draft", "Wrong site")
    assert all(line["allocated_quantity"] == 0 for line in body["lines"])


def test_cancel(api):
    order = factories.order_in(OrderStatus.APPROVED)
    response = api.post(
        url(order, "cancel"), {"reason_code": "no_longer_needed", "reason_text": "Dropped"}
    )
    assert response.json()["status"] == "cancelled"


def test_release(api):
    order = factories.order_in(OrderStatus.ALLOCATED)
    response = api.post(url(order, "release"))
    assert response.status_code == 200 and response.json()["status"] == "released"


def test_resolve_return_and_reopen(api):
    closed = factories.order_in(OrderStatus.PARTIALLY_RETURNED)
    response = api.post(url(closed, "resolve-return"), {"note": "Written off"})
    assert response.json()["status"] == "closed"
    reopened = factories.order_in(OrderStatus.FULLY_RETURNED)
    response = api.post(
        url(reopened, "reopen"), {"reason_code": "return_reopened", "reason_text": "Redo"}
    )
    assert response.json()["status"] == "draft"


# --- Projects, catalog, stock, events ---------------------------------------------------


def test_projects(api):
    project = factories.ProjectFactory()
    body = api.get(f"/api/v1/projects/{project.external_id}/").json()
    assert body["project_id"] == project.external_id
    assert body["milestones"]["site_acquired"] == "2026-01-10"
    assert body["milestones"]["on_air"] is None


def test_items_and_kits(api):
    successor = factories.ItemFactory(code="ANT-NEW")
    factories.ItemFactory(code="ANT-OLD", lifecycle=ItemLifecycle.REPLACED, replaced_by=successor)
    item = api.get("/api/v1/items/ANT-OLD/").json()
    assert (item["lifecycle"], item["replaced_by"]) == ("replaced", "ANT-NEW")
    found = api.get("/api/v1/items/", {"q": "ANT-", "lifecycle": "active"}).json()["results"]
    assert [i["code"] for i in found] == ["ANT-NEW"]
    assert api.get("/api/v1/kits/").status_code == 200


def test_stock_levels_show_available(api):
    order = factories.order_in(OrderStatus.ALLOCATED)
    line = order.lines.get()
    levels = api.get("/api/v1/stock-levels/", {"item": line.item.code}).json()["results"]
    assert [(lv["on_hand"], lv["reserved"], lv["available"]) for lv in levels] == [(5, 5, 0)]
    below = api.get("/api/v1/stock-levels/", {"below_minimum": "true"}).json()["results"]
    assert below == []


def test_event_feed_reads_on_from_a_cursor(api):
    factories.make_order()
    factories.make_order()
    total = OutboxEvent.objects.count()
    first = api.get("/api/v1/events/", {"limit": 1}).json()
    assert len(first["results"]) == 1 and first["has_more"] is True
    rest = api.get("/api/v1/events/", {"after": first["next_cursor"], "limit": 500}).json()
    assert len(rest["results"]) == total - 1 and rest["has_more"] is False
    empty = api.get("/api/v1/events/", {"after": rest["next_cursor"]}).json()
    assert empty["results"] == [] and empty["next_cursor"] == rest["next_cursor"]
    assert api.get("/api/v1/events/", {"after": "x"}).status_code == 400


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2026-13-01T00:00:00Z", "2026-06-01", "2026-06-01T12:00:00", "2026-06-01 12:00Z"],
)
def test_updated_since_refuses_what_is_not_an_rfc3339_date_time(api, value):
    response = api.get("/api/v1/orders/", {"updated_since": value})
    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "updated_since"


def test_updated_since_understands_offsets(api):
    order = factories.make_order()
    Order.objects.filter(pk=order.pk).update(
        updated_at=datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
    )
    found = api.get("/api/v1/orders/", {"updated_since": "2026-06-01T13:30:00+02:00"})
    assert [o["number"] for o in found.json()["results"]] == [order.number]
    # Any RFC 3339 offset is understood, however far from real zones.
    found = api.get("/api/v1/orders/", {"updated_since": "2026-06-01T00:00:00.1-11:59"})
    assert [o["number"] for o in found.json()["results"]] == [order.number]
    later = api.get("/api/v1/orders/", {"updated_since": "2026-06-01T00:01:00-12:00"})
    assert later.json()["results"] == []
    # At the ends of the calendar a bound still means what it says.
    found = api.get("/api/v1/orders/", {"updated_since": "0001-01-01T00:00:00+23:59"})
    assert [o["number"] for o in found.json()["results"]] == [order.number]
    none = api.get("/api/v1/orders/", {"updated_since": "9999-12-31T23:59:59-23:59"})
    assert none.json()["results"] == []
