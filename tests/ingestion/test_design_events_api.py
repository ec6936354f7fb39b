"""The design events API: send, follow up, dead letters, correct and reprocess."""

import datetime

import pytest

from oms.scopes import Scope
from orders import services
from orders.models import DesignEvent, Order
from tests.apiclient import problem
from tests.factories import SETUP, ItemFactory, ProjectFactory, WarehouseFactory, stock

# Processing is scheduled for when the request's transaction commits, so these tests
# commit as production does.
pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/design-events/"


@pytest.fixture
def engineering(make_caller):
    return make_caller(Scope.ENGINEERING_WRITE, Scope.ORDERS_READ)


@pytest.fixture
def project():
    ItemFactory(code="RRU-A")
    return ProjectFactory(construction_start_on=datetime.date(2026, 5, 1))


def event(project, event_id="evt-1", **extra):
    return {
        "event_id": event_id,
        "type": "design_approved",
        "project_id": project.external_id,
        "order_type": "radio",
        "occurred_at": "2026-11-01T09:00:00Z",
        "need_by": "2026-12-15",
        "items": [{"item": "RRU-A", "quantity": 2}],
        **extra,
    }


def test_sending_needs_a_token_and_the_engineering_scope(make_caller, client, project):
    assert client.post(URL, event(project), "application/json").status_code == 401
    reader = make_caller(Scope.ORDERS_READ)
    assert reader.post(URL, event(project)).status_code == 403
    assert not DesignEvent.objects.exists()


def test_an_event_is_stored_processed_and_answered(engineering, project):
    response = engineering.post(URL, event(project))
    assert response.status_code == 202
    (receipt,) = response.json()["results"]
    order = Order.objects.get()
    assert receipt == {
        "event_id": "evt-1",
        "status": "processed",
        "outcome": "created",
        "order": order.number,
        "problems": [],
    }
    detail = engineering.get(f"{URL}evt-1/").json()
    assert (detail["outcome"], detail["order"], detail["payload"]["event_id"]) == (
        "created",
        order.number,
        "evt-1",
    )


def test_a_list_is_answered_event_by_event(engineering, project):
    body = [
        event(project, "evt-a"),
        event(project, "evt-b", items=[{"item": "NOPE", "quantity": 1}]),
        {"type": "design_approved"},
        event(project, "evt-a"),
    ]
    results = engineering.post(URL, body).json()["results"]
    assert [(r["event_id"], r["outcome"]) for r in results] == [
        ("evt-a", "created"),
        ("evt-b", "invalid"),
        (None, "invalid"),
        ("evt-a", "duplicate"),
    ]
    assert results[1]["problems"][0]["code"] == "unknown_item"
    assert results[2]["problems"][0]["field"] == "event_id"
    assert DesignEvent.objects.count() == 2


def test_the_same_event_sent_three_times_has_one_effect(engineering, project):
    outcomes = [
        engineering.post(URL, event(project)).json()["results"][0]["outcome"] for _ in range(3)
    ]
    assert outcomes == ["created", "duplicate", "duplicate"]
    assert Order.objects.count() == 1


def test_a_released_order_restored_after_a_reduction_orders_nothing_more(engineering, project):
    engineering.post(URL, event(project, "evt-1"))
    order = Order.objects.get()
    warehouse = WarehouseFactory()
    stock(warehouse, order.lines.get().item, 2)
    order = services.order_approve(order=order, actor=SETUP)
    order = services.order_allocate(order=order, warehouse=warehouse, actor=SETUP)
    services.order_release(order=order, actor=SETUP)

    reduced = event(
        project,
        "evt-2",
        occurred_at="2026-11-02T09:00:00Z",
        items=[{"item": "RRU-A", "quantity": 1}],
    )
    restored = event(project, "evt-3", occurred_at="2026-11-03T09:00:00Z")
    answers = [engineering.post(URL, body).json()["results"][0] for body in (reduced, restored)]

    assert [a["outcome"] for a in answers] == ["flagged", "unchanged"]
    assert Order.objects.count() == 1
    order.refresh_from_db()
    assert (order.status, order.upstream_flag) == ("released", "")


@pytest.mark.parametrize(
    ("body", "status"),
    [("{not json", 400), ('{"type": "design_approved"}', 422), ("[]", 422)],
)
def test_bad_bodies_are_problems(engineering, body, status):
    response = engineering.post(URL, body)
    assert response.status_code == status
    problem(response)
    assert not DesignEvent.objects.exists()


def test_an_oversized_body_is_413(engineering, project, settings):
    settings.OMS_API_MAX_BODY_BYTES = 1000
    big = event(project, items=[{"item": "RRU-A", "quantity": 1}] * 100)
    response = engineering.post(URL, big)
    assert response.status_code == 413
    assert problem(response)["code"] == "payload_too_large"


def test_dead_letters_are_listed_corrected_and_reprocessed(engineering, make_caller, project):
    engineering.post(URL, event(project, items=[{"item": "NOPE", "quantity": 1}]))
    dead = engineering.get(URL, {"status": "invalid"}).json()["results"]
    assert [d["event_id"] for d in dead] == ["evt-1"]
    coordinator = make_caller(Scope.ORDERS_WRITE, Scope.ORDERS_READ)
    fixed = event(project)
    response = coordinator.post(f"{URL}evt-1/correct/", {"payload": fixed})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["outcome"]) == ("processed", "created")
    assert body["payload"]["items"][0]["item"] == "NOPE"
    assert body["corrected_payload"] == fixed
    again = coordinator.post(f"{URL}evt-1/reprocess/")
    assert again.json()["outcome"] == "created" and Order.objects.count() == 1


def test_reprocessing_as_is_after_the_catalog_is_fixed(engineering, make_caller, project):
    engineering.post(URL, event(project, items=[{"item": "NEW-1", "quantity": 1}]))
    ItemFactory(code="NEW-1")
    coordinator = make_caller(Scope.ORDERS_WRITE)
    response = coordinator.post(f"{URL}evt-1/reprocess/")
    assert response.json()["outcome"] == "created"


def test_correcting_needs_orders_write(engineering, project):
    engineering.post(URL, event(project, items=[{"item": "NOPE", "quantity": 1}]))
    response = engineering.post(f"{URL}evt-1/correct/", {"payload": event(project)})
    assert response.status_code == 403


@pytest.mark.postgres
def test_one_event_sent_twice_at_once_has_one_effect(engineering, project):
    from tests.concurrency import at_once

    def send():
        return engineering.post(URL, event(project)).json()["results"][0]["outcome"]

    outcomes = at_once(send, send)
    assert sorted(outcomes) == ["created", "duplicate"]
    assert Order.objects.count() == 1 and DesignEvent.objects.count() == 1


def test_events_whose_task_never_arrived_are_processed_by_the_sweep(
    project, settings, acting_system
):
    from django.utils import timezone

    from orders.ingestion import receiving
    from orders.tasks import process_waiting_design_events

    settings.OMS_DESIGN_EVENT_SWEEP_SECONDS = 60
    # given two events stored as received and never processed (their task was lost)
    old, new = (
        DesignEvent.objects.create(event_id=event_id, payload=event(project, event_id))
        for event_id in ("ev-lost", "ev-fresh")
    )
    DesignEvent.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - datetime.timedelta(minutes=2)
    )

    # then only the one waiting longer than the sweep's grace is sent again
    assert list(receiving.waiting()) == [old]
    assert process_waiting_design_events.delay().get() == 1

    old.refresh_from_db(), new.refresh_from_db()
    assert (old.status, old.outcome) == (DesignEvent.Status.PROCESSED, "created")
    assert new.status == DesignEvent.Status.RECEIVED
    assert process_waiting_design_events.delay().get() == 0
