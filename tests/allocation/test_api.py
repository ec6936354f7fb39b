"""The allocation runs API: start a run or a dry run, read runs and outcomes."""

import pytest
from django.test import Client

from allocation import services
from allocation.choices import Trigger
from allocation.models import AllocationRun
from oms.scopes import Scope
from tests.allocation.builders import allocate
from tests.apiclient import problem
from tests.factories import SETUP, UserFactory, stock

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/allocation-runs/"


@pytest.fixture
def scene(world):
    x, y = world.items[:2]
    stock(world.a, x, 10)
    fits = world.approved([(x, 4)], national_priority=1)
    short = world.approved([(x, 20)], national_priority=2)
    mismatched = world.approved([(y, 1)], national_priority=3)
    return {"run": allocate(), "fits": fits, "short": short, "mismatched": mismatched, "x": x}


def test_no_token_is_401(world):
    response = Client().post(RUNS, {}, content_type="application/json")
    assert response.status_code == 401
    assert problem(response)["code"] == "not_authenticated"


def test_starting_a_run_needs_the_allocation_run_scope(make_caller, world):
    response = make_caller(Scope.ORDERS_READ, Scope.ORDERS_WRITE).post(RUNS, {})
    assert response.status_code == 403
    assert "allocation:run" in problem(response)["detail"]
    assert not AllocationRun.objects.exists()


def test_a_client_starts_a_dry_run_and_follows_it(make_caller, world):
    caller = make_caller(Scope.ALLOCATION_RUN, Scope.ORDERS_READ)

    response = caller.post(RUNS, {"dry_run": True})

    assert response.status_code == 202, response.content
    body = response.json()
    run = AllocationRun.objects.get()
    assert (body["id"], body["dry_run"], body["trigger"]) == (run.pk, True, "api")
    assert body["requested_by"] == {"kind": "client", "name": caller.record.name}
    assert response["Location"] == body["url"]
    assert body["url"].endswith(f"{RUNS}{run.pk}/")
    # the run executes in a worker once the request commits; here, in the test
    services.allocation_run_execute(run_id=run.pk)
    followed = caller.get(body["url"]).json()
    assert followed["status"] == "succeeded"


@pytest.mark.parametrize(
    "body", [{"dry_run": "perhaps"}, {"dry_run": None}, [], '"run"', "{not json", {"dry_run": [1]}]
)
def test_bad_input_is_400_and_starts_nothing(make_caller, world, body):
    response = make_caller(Scope.ALLOCATION_RUN).post(RUNS, body)
    assert response.status_code == 400
    assert problem(response)["code"] in {"invalid", "parse_error"}
    assert not AllocationRun.objects.exists()


def test_a_run_while_another_is_queued_is_409_naming_it(make_caller, world):
    queued = services.allocation_run_request(actor=SETUP, trigger=Trigger.SCHEDULE)

    response = make_caller(Scope.ALLOCATION_RUN).post(RUNS, {})

    assert response.status_code == 409
    body = problem(response)
    assert body["code"] == "allocation_run_in_progress"
    assert body["run"]["id"] == queued.pk and body["run"]["status"] == "queued"
    assert body["run"]["url"].endswith(f"{RUNS}{queued.pk}/")
    assert AllocationRun.objects.count() == 1


def test_a_coordinator_may_start_runs_through_the_session_and_a_viewer_may_not(client, world):
    client.force_login(UserFactory(role="viewer"))
    assert client.post(RUNS, {}, content_type="application/json").status_code == 403
    client.force_login(UserFactory(role="coordinator"))
    assert client.post(RUNS, {}, content_type="application/json").status_code == 202


def test_runs_are_listed_newest_first_and_filtered(make_caller, scene):
    dry = allocate(dry_run=True)
    caller = make_caller(Scope.ORDERS_READ)

    listed = caller.get(RUNS).json()
    assert [r["id"] for r in listed["results"]] == [dry.pk, scene["run"].pk]
    assert listed["results"][1]["counts"] == {
        "eligible": 3,
        "allocated": 1,
        "short": 1,
        "rejected": 1,
        "gated": 0,
        "changed": 0,
    }
    only_dry = caller.get(RUNS, {"dry_run": "true"}).json()
    assert [r["id"] for r in only_dry["results"]] == [dry.pk]


def test_a_run_shows_its_ranking_and_blocking_items(make_caller, scene):
    body = make_caller(Scope.ORDERS_READ).get(f"{RUNS}{scene['run'].pk}/").json()
    assert body["ranking"]["criteria"][0] == "national_priority"
    assert body["blocking"][0]["item"] == scene["x"].code
    assert body["blocking"][0]["orders"] == 1
    assert body["units_reserved"] == 4
    assert body["outcomes_url"].endswith(f"{RUNS}{scene['run'].pk}/outcomes/")


def test_outcomes_say_what_happened_to_each_order_and_why(make_caller, scene):
    caller = make_caller(Scope.ORDERS_READ)
    url = f"{RUNS}{scene['run'].pk}/outcomes/"

    everything = caller.get(url).json()
    assert [o["order"] for o in everything["results"]] == [
        scene["fits"].number,
        scene["short"].number,
        scene["mismatched"].number,
    ]
    short = caller.get(url, {"result": "short"}).json()["results"]
    assert len(short) == 1
    assert short[0]["explanation"]["lines"][0] == {
        "item": scene["x"].code,
        "needed": 20,
        "best_available": 6,
        "where": [
            {
                "warehouse": scene["fits"].project.market.served_by.get(rank=1).warehouse.code,
                "available": 6,
            }
        ],
    }
    rejected = caller.get(url, {"reason_code": "unknown_item"}).json()["results"]
    assert [o["order"] for o in rejected] == [scene["mismatched"].number]
    by_item = caller.get(url, {"item": scene["x"].code}).json()["results"]
    assert [o["order"] for o in by_item] == [scene["short"].number]


def test_unknown_runs_are_404(make_caller, world):
    caller = make_caller(Scope.ORDERS_READ)
    assert caller.get(f"{RUNS}999999/").status_code == 404
    assert problem(caller.get(f"{RUNS}999999/outcomes/"))["status"] == 404


def test_bad_filters_are_400(make_caller, scene):
    response = make_caller(Scope.ORDERS_READ).get(
        f"{RUNS}{scene['run'].pk}/outcomes/", {"result": "flying"}
    )
    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "result"
