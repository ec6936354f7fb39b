"""POST /api/v1/projects/: the planning system's single and list upserts."""

import pytest
from django.test import Client

from oms.scopes import Scope
from orders.models import Project
from tests import factories
from tests.apiclient import problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/"


@pytest.fixture
def planning(make_caller):
    factories.MarketFactory(code="NYC", region=factories.RegionFactory(code="EAST"))
    return make_caller(Scope.PLANNING_WRITE, name="planning-system")


def project(project_id="PRJ-1", **values) -> dict:
    return {
        "project_id": project_id,
        "site_code": "NYC0001",
        "market": "NYC",
        "plan_type": "new_build",
        **values,
    }


def test_no_token_is_401():
    response = Client().post(URL, project(), content_type="application/json")
    assert response.status_code == 401
    assert problem(response)["code"] == "not_authenticated"


def test_posting_needs_planning_write_and_reading_still_needs_orders_read(make_caller):
    reader = make_caller(Scope.ORDERS_READ)
    response = reader.post(URL, project())
    assert response.status_code == 403
    assert "planning:write" in problem(response)["detail"]
    assert reader.get(URL).status_code == 200

    writer = make_caller(Scope.PLANNING_WRITE)
    assert writer.get(URL).status_code == 403
    assert not Project.objects.exists()


def test_one_project_is_created_by_the_client(planning):
    response = planning.post(URL, project(latitude=40.754932, longitude=-73.984016))

    assert response.status_code == 200, response.content
    assert response.json() == {
        "results": [{"project_id": "PRJ-1", "outcome": "created", "problems": []}],
        "counts": {"created": 1, "modified": 0, "unchanged": 0, "invalid": 0},
    }
    record = Project.objects.get(external_id="PRJ-1").history.get()
    assert (record.actor_kind, record.actor_name, record.history_change_reason) == (
        "client",
        "planning-system",
        "planning API",
    )
    assert record.correlation_id == response["X-Correlation-ID"]


def test_the_same_project_again_is_unchanged_and_a_change_is_modified(planning):
    planning.post(URL, project(name="Rooftop"))
    assert planning.post(URL, project(name="Rooftop")).json()["results"][0]["outcome"] == (
        "unchanged"
    )
    body = planning.post(URL, project(status="on_hold")).json()
    assert body["results"][0]["outcome"] == "modified"
    assert Project.objects.get().status == "on_hold"


def test_a_list_saves_the_good_projects_and_reports_the_bad_ones(planning):
    response = planning.post(
        URL,
        [
            project("PRJ-1"),
            project("PRJ-2", market="XX"),
            project("PRJ-3", site_acquired_on="2026-05-01", design_complete_on="2026-04-01"),
            project("PRJ-4"),
        ],
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert [(r["project_id"], r["outcome"]) for r in body["results"]] == [
        ("PRJ-1", "created"),
        ("PRJ-2", "invalid"),
        ("PRJ-3", "invalid"),
        ("PRJ-4", "created"),
    ]
    assert body["results"][1]["problems"] == [
        {"code": "unknown", "field": "market", "message": "Unknown market 'XX'."}
    ]
    assert body["results"][2]["problems"][0]["field"] == "design_complete_on"
    assert body["counts"] == {"created": 2, "modified": 0, "unchanged": 0, "invalid": 2}
    assert set(Project.objects.values_list("external_id", flat=True)) == {"PRJ-1", "PRJ-4"}


def test_a_single_invalid_project_is_422_with_its_problems(planning):
    response = planning.post(URL, {"project_id": "PRJ-9", "market": "NYC", "latitude": 95})

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "validation_failed"
    assert body["detail"] == "Project PRJ-9 is not valid."
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("site_code", "required"),
        ("plan_type", "required"),
        ("latitude", "out_of_range"),
    }
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    "body",
    [[], '"PRJ-1"', 42, [project(f"P{n}") for n in range(1001)]],
)
def test_a_body_that_is_not_projects_is_400(planning, body):
    response = planning.post(URL, body)
    assert response.status_code == 400
    assert problem(response)["code"] == "invalid"
    assert not Project.objects.exists()


def test_a_retry_with_the_idempotency_key_replays_the_first_outcome(planning):
    headers = {"Idempotency-Key": "planning-batch-7"}
    first = planning.post(URL, project(), headers=headers)
    again = planning.post(URL, project(), headers=headers)

    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Project.objects.get().history.count() == 1
