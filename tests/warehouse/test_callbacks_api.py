"""Callbacks from the warehouse system (scope warehouse:write): each applied once by
its event id, in whatever order they come."""

import pytest
from django.test import Client

from oms.models import OutboxEvent
from oms.scopes import Scope
from orders.choices import OrderStatus, ReasonCode
from tests.apiclient import problem
from tests.concurrency import at_once
from tests.factories import ItemFactory, order_in, stock
from warehouse.integration.choices import CallbackKind, ReleaseStatus
from warehouse.integration.models import WarehouseCallback
from warehouse.ledger.choices import MovementKind
from warehouse.ledger.models import StockLevel, StockMovement

pytestmark = pytest.mark.django_db

BASE = "/api/v1/warehouse"


@pytest.fixture
def wms(make_caller):
    return make_caller(Scope.WAREHOUSE_WRITE, name="wms")


def url(release, kind: str) -> str:
    return f"{BASE}/releases/{release.release_id}/{kind}/"


def levels(order):
    return {
        level.item.code: level
        for level in StockLevel.objects.filter(
            item__order_lines__order=order, warehouse__releases__order=order
        ).select_related("item")
    }


def complete(wms, release, event_id="ev-done", **shipped):
    lines = [{"item": item, "shipped": shipped.get(item, n)} for item, n in _requested(release)]
    return wms.post(url(release, "completed"), {"event_id": event_id, "lines": lines})


def _requested(release):
    return [(line["item"], line["quantity"]) for line in release.lines]


# --- Who may call ------------------------------------------------------------------------


def test_callbacks_need_a_token(released):
    _, release = released

    response = Client().post(url(release, "accepted"), {"event_id": "e1"}, "application/json")

    assert response.status_code == 401
    assert problem(response)["code"] == "not_authenticated"


def test_callbacks_need_the_warehouse_scope(released, make_caller):
    _, release = released
    other = make_caller(Scope.ORDERS_WRITE, Scope.ORDERS_READ)

    response = other.post(url(release, "accepted"), {"event_id": "e1"})

    assert response.status_code == 403
    assert "warehouse:write" in problem(response)["detail"]


# --- Accepted ------------------------------------------------------------------------------


def test_accepted_marks_the_release_accepted_and_the_order_stays_released(released, wms):
    order, release = released

    response = wms.post(url(release, "accepted"), {"event_id": "ev-1"})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "event_id": "ev-1",
        "outcome": "accepted",
        "order": order.number,
        "order_status": OrderStatus.RELEASED,
        "release_id": str(release.release_id),
        "release_status": ReleaseStatus.ACCEPTED,
    }
    release.refresh_from_db()
    assert release.status == ReleaseStatus.ACCEPTED
    assert release.accepted_at is not None and release.sent_at is not None
    event = OutboxEvent.objects.get(event_type="release.accepted")
    assert event.payload["event_id"] == "ev-1"
    assert event.payload["actor"] == {"kind": "client", "name": "wms"}


def test_the_same_event_again_gets_the_first_answer_and_has_no_further_effect(released, wms):
    _, release = released
    first = wms.post(url(release, "accepted"), {"event_id": "ev-1"})

    again = wms.post(url(release, "accepted"), {"event_id": "ev-1"})

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert OutboxEvent.objects.filter(event_type="release.accepted").count() == 1
    assert WarehouseCallback.objects.count() == 1


def test_an_event_id_sent_again_with_other_content_is_refused(released, wms):
    order, release = released
    wms.post(url(release, "accepted"), {"event_id": "ev-1"})

    response = wms.post(url(release, "rejected"), {"event_id": "ev-1", "reason": "no stock"})

    assert response.status_code == 422
    assert problem(response)["code"] == "event_id_reused"
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED


def test_an_unknown_release_is_404(db, wms):
    response = wms.post(
        f"{BASE}/releases/00000000-0000-4000-8000-000000000000/accepted/", {"event_id": "e"}
    )

    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "event_id"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": "has spaces"}, "event_id"),
        ({"event_id": "x" * 101}, "event_id"),
    ],
)
def test_a_callback_without_a_valid_event_id_is_400(released, wms, body, field):
    response = wms.post(url(released[1], "accepted"), body)

    assert response.status_code == 400
    assert {e["field"] for e in problem(response)["errors"]} == {field}


# --- Rejected ------------------------------------------------------------------------------


def test_rejected_sends_the_order_back_to_draft_with_the_reason_and_unreserves_its_stock(
    released, wms
):
    order, release = released
    wms.post(url(release, "accepted"), {"event_id": "ev-1"})

    response = wms.post(url(release, "rejected"), {"event_id": "ev-2", "reason": "Bin empty."})

    assert response.status_code == 200
    assert response.json()["order_status"] == OrderStatus.DRAFT
    order.refresh_from_db()
    assert order.reason_code == ReasonCode.WAREHOUSE_REJECTED
    assert order.reason_text == f"{release.warehouse.code}: Bin empty."
    assert all(line.allocated_quantity == 0 for line in order.lines.all())
    assert all(level.reserved == 0 for level in levels(order).values())
    assert StockMovement.objects.filter(kind=MovementKind.UNRESERVE).count() == 2
    release.refresh_from_db()
    assert (release.status, release.reason) == (ReleaseStatus.REJECTED, "Bin empty.")
    assert release.finished_at is not None


def test_a_rejection_without_a_reason_is_400(released, wms):
    response = wms.post(url(released[1], "rejected"), {"event_id": "ev-2", "reason": " "})

    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "reason"


def test_a_completed_release_cannot_be_rejected(released, wms):
    _, release = released
    complete(wms, release)

    response = wms.post(url(release, "rejected"), {"event_id": "ev-9", "reason": "late"})

    assert response.status_code == 409
    assert not WarehouseCallback.objects.filter(event_id="ev-9").exists()


# --- Completed -----------------------------------------------------------------------------


def test_completed_closes_the_order_and_issues_the_shipped_stock(released, wms):
    order, release = released
    before = {code: level.on_hand for code, level in levels(order).items()}

    response = complete(wms, release)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["outcome"], body["order_status"]) == ("completed", OrderStatus.CLOSED)
    assert body["shipped"] == [{"item": "ANT-T1", "shipped": 2}, {"item": "RRU-T1", "shipped": 3}]
    after = levels(order)
    assert {code: before[code] - after[code].on_hand for code in before} == {
        "RRU-T1": 3,
        "ANT-T1": 2,
    }
    assert all(level.reserved == 0 for level in after.values())
    assert {line.item.code: line.released_quantity for line in order.lines.all()} == {
        "RRU-T1": 3,
        "ANT-T1": 2,
    }
    release.refresh_from_db()
    assert release.status == ReleaseStatus.COMPLETED
    assert release.shipped == {"RRU-T1": 3, "ANT-T1": 2}


def test_a_short_shipment_closes_the_order_and_keeps_the_rest_outstanding(released, wms):
    order, release = released

    response = complete(wms, release, **{"RRU-T1": 1})

    assert response.json()["outcome"] == "completed short"
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    line = order.lines.get(item__code="RRU-T1")
    assert (line.released_quantity, line.outstanding_quantity) == (1, 2)
    level = levels(order)["RRU-T1"]
    assert level.reserved == 0  # the two not shipped are available again
    unreserved = StockMovement.objects.get(kind=MovementKind.UNRESERVE, order_line=line)
    assert (unreserved.quantity, unreserved.reason) == (2, "short shipment")
    event = OutboxEvent.objects.get(event_type="release.completed")
    assert event.payload["short"] == {"RRU-T1": 2}


def test_completed_before_accepted_ends_the_same_and_the_late_accepted_changes_nothing(
    released, wms
):
    order, release = released
    complete(wms, release)

    late = wms.post(url(release, "accepted"), {"event_id": "ev-late"})

    assert late.status_code == 200
    assert late.json()["outcome"] == "already completed"
    order.refresh_from_db()
    release.refresh_from_db()
    assert (order.status, release.status) == (OrderStatus.CLOSED, ReleaseStatus.COMPLETED)
    assert release.accepted_at is None
    assert StockMovement.objects.filter(kind=MovementKind.ISSUE).count() == 2


def test_a_second_completion_with_another_event_id_issues_nothing_more(released, wms):
    _, release = released
    complete(wms, release, event_id="ev-a")

    response = complete(wms, release, event_id="ev-b")

    assert response.json()["outcome"] == "already completed"
    assert StockMovement.objects.filter(kind=MovementKind.ISSUE).count() == 2


@pytest.mark.parametrize(
    "lines, code",
    [
        ([{"item": "RRU-T1", "shipped": 3}], "required"),  # ANT-T1 not said
        ([{"item": "RRU-T1", "shipped": 4}, {"item": "ANT-T1", "shipped": 2}], "invalid_quantity"),
        (
            [
                {"item": "RRU-T1", "shipped": 3},
                {"item": "ANT-T1", "shipped": 2},
                {"item": "XXX-9", "shipped": 1},
            ],
            "unknown_item",
        ),
        (
            [
                {"item": "RRU-T1", "shipped": 3},
                {"item": "RRU-T1", "shipped": 3},
                {"item": "ANT-T1", "shipped": 2},
            ],
            "duplicate_item",
        ),
    ],
)
def test_a_shipment_that_does_not_fit_the_release_is_422_and_changes_nothing(
    released, wms, lines, code
):
    order, release = released

    response = wms.post(url(release, "completed"), {"event_id": "ev-bad", "lines": lines})

    assert response.status_code == 422
    assert code in [e["code"] for e in problem(response)["errors"]]
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED
    assert not WarehouseCallback.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"event_id": "e", "lines": []},
        {"event_id": "e", "lines": [{"item": "RRU-T1", "shipped": -1}]},
        {"event_id": "e", "lines": [{"item": "RRU-T1"}]},
        {"event_id": "e", "lines": "all"},
    ],
)
def test_a_malformed_shipment_is_400(released, wms, body):
    response = wms.post(url(released[1], "completed"), body)

    assert response.status_code == 400
    assert problem(response)["errors"]


def test_a_body_that_is_not_json_is_refused(released, wms):
    response = wms.post(url(released[1], "accepted"), "event_id=e", content_type="text/plain")

    assert response.status_code == 415
    problem(response)


# --- Returns -------------------------------------------------------------------------------


def test_returns_put_good_stock_back_and_set_damaged_stock_aside(released, wms):
    order, release = released
    complete(wms, release)
    before = levels(order)

    response = wms.post(
        url(release, "returns"),
        {
            "event_id": "ret-1",
            "lines": [
                {"item": "RRU-T1", "quantity": 1, "condition": "good", "reason": "Spare"},
                {"item": "ANT-T1", "quantity": 1, "condition": "damaged", "reason": "Dented"},
            ],
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["order_status"] == OrderStatus.PARTIALLY_RETURNED
    after = levels(order)
    assert after["RRU-T1"].on_hand == before["RRU-T1"].on_hand + 1
    # damaged stock is set aside: counted apart, neither on hand nor available
    assert after["ANT-T1"].damaged == before["ANT-T1"].damaged + 1
    assert after["ANT-T1"].on_hand == before["ANT-T1"].on_hand
    assert after["ANT-T1"].available == before["ANT-T1"].available
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_RETURNED
    assert {line.item.code: line.returned_quantity for line in order.lines.all()} == {
        "RRU-T1": 1,
        "ANT-T1": 1,
    }


def test_returning_everything_that_was_shipped_makes_the_order_fully_returned(released, wms):
    _, release = released
    complete(wms, release)

    response = wms.post(
        url(release, "returns"),
        {
            "event_id": "ret-all",
            "lines": [
                {"item": item, "quantity": n, "condition": "good", "reason": "Site cancelled"}
                for item, n in _requested(release)
            ],
        },
    )

    assert response.json()["order_status"] == OrderStatus.FULLY_RETURNED


def test_a_return_before_the_completion_is_refused_and_can_be_sent_again_later(released, wms):
    _, release = released
    body = {
        "event_id": "ret-early",
        "lines": [{"item": "RRU-T1", "quantity": 1, "condition": "good", "reason": "Spare"}],
    }

    early = wms.post(url(release, "returns"), body)
    complete(wms, release)
    later = wms.post(url(release, "returns"), body)

    assert early.status_code == 409
    assert later.status_code == 200
    assert "Idempotent-Replayed" not in later


def test_returning_more_than_was_shipped_is_422(released, wms):
    _, release = released
    complete(wms, release, **{"RRU-T1": 1})

    response = wms.post(
        url(release, "returns"),
        {
            "event_id": "ret-2",
            "lines": [{"item": "RRU-T1", "quantity": 2, "condition": "good", "reason": "x"}],
        },
    )

    assert response.status_code == 422
    assert problem(response)["errors"][0]["code"] == "too_many"


@pytest.mark.parametrize(
    "line",
    [
        {"item": "RRU-T1", "quantity": 1, "condition": "broken", "reason": "x"},
        {"item": "RRU-T1", "quantity": 0, "condition": "good", "reason": "x"},
        {"item": "RRU-T1", "quantity": 1, "condition": "good"},
    ],
)
def test_a_malformed_return_is_400(released, wms, line):
    response = wms.post(url(released[1], "returns"), {"event_id": "r", "lines": [line]})

    assert response.status_code == 400


# --- Stock ---------------------------------------------------------------------------------


def test_a_stock_receipt_adds_on_hand_stock_with_its_reason(released, wms):
    _, release = released
    item = ItemFactory(code="NEW-1")

    response = wms.post(
        f"{BASE}/stock-receipts/",
        {
            "event_id": "st-1",
            "warehouse": release.warehouse.code,
            "item": "NEW-1",
            "quantity": 12,
            "reason": "Delivery note DN-1",
        },
    )
    again = wms.post(
        f"{BASE}/stock-receipts/",
        {
            "event_id": "st-1",
            "warehouse": release.warehouse.code,
            "item": "NEW-1",
            "quantity": 12,
            "reason": "Delivery note DN-1",
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["stock"] == {
        "warehouse": release.warehouse.code,
        "item": "NEW-1",
        "on_hand": 12,
        "reserved": 0,
        "available": 12,
    }
    assert again["Idempotent-Replayed"] == "true"
    movement = StockMovement.objects.get(item=item)
    assert (movement.kind, movement.quantity, movement.reason) == (
        MovementKind.RECEIPT,
        12,
        "Delivery note DN-1",
    )
    assert (movement.actor_kind, movement.actor_name) == ("client", "wms")


def test_an_adjustment_changes_on_hand_stock_but_never_takes_reserved_stock(released, wms):
    order, release = released
    stock(release.warehouse, order.lines.get(item__code="RRU-T1").item, 5)
    level = levels(order)["RRU-T1"]  # 3 reserved for the order, 5 available
    body = {"warehouse": release.warehouse.code, "item": "RRU-T1", "reason": "Count 11/26"}

    taken = wms.post(f"{BASE}/stock-adjustments/", {**body, "event_id": "adj-1", "quantity": -1})
    too_much = wms.post(
        f"{BASE}/stock-adjustments/",
        {**body, "event_id": "adj-2", "quantity": -(level.available + 1)},
    )

    assert taken.status_code == 200 and taken.json()["stock"]["on_hand"] == level.on_hand - 1
    assert too_much.status_code == 409
    assert problem(too_much)["code"] == "insufficient_stock"
    assert not WarehouseCallback.objects.filter(event_id="adj-2").exists()


def test_stock_of_an_unknown_warehouse_or_item_is_422(db, wms):
    response = wms.post(
        f"{BASE}/stock-receipts/",
        {"event_id": "st-x", "warehouse": "NOPE", "item": "NOPE", "quantity": 1, "reason": "r"},
    )

    assert response.status_code == 422
    assert {e["field"] for e in problem(response)["errors"]} == {"warehouse", "item"}


def test_a_receipt_of_nothing_is_refused(released, wms):
    response = wms.post(
        f"{BASE}/stock-receipts/",
        {
            "event_id": "st-0",
            "warehouse": released[1].warehouse.code,
            "item": "RRU-T1",
            "quantity": 0,
            "reason": "r",
        },
    )

    # The schema declares a receipt's quantity from 1: anything else breaks it.
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["quantity"]


# --- Two copies at once --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_completion_arriving_at_once_have_one_effect(make_caller):
    order = order_in(OrderStatus.RELEASED, lines=[(ItemFactory(), 4)])
    release = order.releases.get()
    wms = make_caller(Scope.WAREHOUSE_WRITE, name="wms")
    answers = at_once(*[lambda: complete(wms, release, event_id="ev-twice")] * 2)

    assert sorted(a.status_code for a in answers) == [200, 200]
    assert sorted(a.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
    assert answers[0].json() == answers[1].json()
    assert StockMovement.objects.filter(kind=MovementKind.ISSUE).count() == 1
    assert WarehouseCallback.objects.filter(kind=CallbackKind.COMPLETED).count() == 1
