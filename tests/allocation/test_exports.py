"""Exports of an allocation run's outcomes: every outcome the run page shows with its
filters (all pages), with the explanation in words, as CSV and Excel."""

import datetime

import pytest
from django.urls import reverse

from allocation import views
from allocation.models import AllocationOutcome
from tests.allocation.builders import allocate
from tests.exports import csv_rows, filename, xlsx_rows
from tests.factories import UserFactory, stock

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today().isoformat()


@pytest.fixture
def scene(world):
    """An allocatable order, a short one and a mismatched one, and a run over them."""
    x, y, unknown = world.items[:3]
    stock(world.a, x, 10)
    stock(world.a, y, 1)
    fits = world.approved([(x, 4)], national_priority=1)
    short = world.approved([(x, 2), (y, 5)], national_priority=2)
    mismatched = world.approved([(unknown, 1)], national_priority=3)
    run = allocate()
    return {"run": run, "fits": fits, "short": short, "mismatched": mismatched, "y": y}


def export_url(run, fmt="csv"):
    return reverse(f"allocation:run_{fmt}", args=[run.pk])


def test_the_export_holds_every_outcome_in_ranking_order_with_why_in_words(
    coordinator_client, scene
):
    rows = csv_rows(coordinator_client.get(export_url(scene["run"])))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["Rank", "Order"] and header[-1] == "Why"
    assert [r[1] for r in body] == [
        scene["fits"].number,
        scene["short"].number,
        scene["mismatched"].number,
    ]
    result = header.index("Result")
    assert [r[result] for r in body] == ["Allocated", "Short", "Rejected to draft"]
    why = {r[1]: r[-1] for r in body}
    assert why[scene["fits"].number].startswith("4 units from ")
    assert f"{scene['y'].code}: needs 5" in why[scene["short"].number]
    rejected = AllocationOutcome.objects.get(run=scene["run"], order=scene["mismatched"])
    assert why[scene["mismatched"].number].startswith(rejected.get_reason_code_display() + ": ")
    assert body[1][header.index("Short of items")] == scene["y"].code


def test_the_export_honours_the_run_page_s_filters(coordinator_client, scene):
    run = scene["run"]
    short = csv_rows(coordinator_client.get(export_url(run), {"result": "short"}))
    assert [r[1] for r in short[1:]] == [scene["short"].number]
    both = csv_rows(coordinator_client.get(export_url(run) + "?result=short&result=allocated"))
    assert {r[1] for r in both[1:]} == {scene["fits"].number, scene["short"].number}
    by_item = csv_rows(coordinator_client.get(export_url(run), {"item": scene["y"].code}))
    assert [r[1] for r in by_item[1:]] == [scene["short"].number]


def test_the_export_holds_every_page_of_outcomes(coordinator_client, world):
    x = world.items[0]
    stock(world.a, x, 500)
    orders = [world.approved([(x, 1)]) for _ in range(views.PAGE_SIZE + 5)]
    run = allocate(dry_run=True)
    rows = csv_rows(coordinator_client.get(export_url(run), {"result": "allocated"}))
    assert sorted(r[1] for r in rows[1:]) == sorted(o.number for o in orders)


def test_the_excel_export_opens_and_holds_the_same_rows_as_the_csv(coordinator_client, scene):
    run = scene["run"]
    csv = csv_rows(coordinator_client.get(export_url(run)))
    response = coordinator_client.get(export_url(run, "xlsx"), {"result": "short"})
    sheet = xlsx_rows(response)
    assert sheet[0] == csv[0]
    assert [r[1] for r in sheet[1:]] == [scene["short"].number]
    assert sheet[1][0] == 2  # the rank, a number
    assert filename(response) == f"allocation-run-{run.pk}_result-short_{TODAY}.xlsx"


def test_the_file_name_says_a_dry_run_is_one(coordinator_client, world):
    run = allocate(dry_run=True)
    response = coordinator_client.get(export_url(run))
    assert filename(response) == f"dry-run-{run.pk}_{TODAY}.csv"


def test_an_explanation_that_would_run_as_a_formula_is_neutralised(coordinator_client, scene):
    outcome = AllocationOutcome.objects.get(run=scene["run"], order=scene["fits"])
    AllocationOutcome.objects.filter(pk=outcome.pk).update(
        result="changed", explanation={"message": "=cmd|' /C calc'!A0"}
    )
    rows = csv_rows(coordinator_client.get(export_url(scene["run"]), {"result": "changed"}))
    assert rows[1][-1] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("param", "value"), [("result", "flying"), ("reason_code", "bored"), ("priority", "9")]
)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_invalid_filter_value_is_a_400_naming_it(coordinator_client, scene, fmt, param, value):
    response = coordinator_client.get(export_url(scene["run"], fmt), {param: value})
    assert response.status_code == 400 and "Content-Disposition" not in response
    assert f"<strong>{param}</strong>" in response.content.decode()


def test_whoever_can_see_runs_can_export_them_and_no_one_else(client, viewer_client, scene):
    assert viewer_client.get(export_url(scene["run"], "xlsx")).status_code == 200
    client.force_login(UserFactory())  # no role
    assert client.get(export_url(scene["run"])).status_code == 403
    assert client.get(reverse("allocation:run_csv", args=[999999])).status_code == 403


def test_the_export_of_an_unknown_run_is_a_404(coordinator_client, world):
    assert coordinator_client.get(reverse("allocation:run_csv", args=[999999])).status_code == 404


def test_the_export_runs_a_fixed_number_of_queries(
    coordinator_client, world, django_assert_max_num_queries
):
    x = world.items[0]
    stock(world.a, x, 100)
    for _ in range(2):
        world.approved([(x, 2)])
    small = allocate(dry_run=True)
    with django_assert_max_num_queries(10) as few:
        assert len(csv_rows(coordinator_client.get(export_url(small)))) == 3
    for _ in range(12):
        world.approved([(x, 2)])
    bigger = allocate(dry_run=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(xlsx_rows(coordinator_client.get(export_url(bigger, "xlsx")))) == 15


def test_the_run_page_offers_the_exports_with_its_filters(coordinator_client, scene):
    run = scene["run"]
    page = coordinator_client.get(
        reverse("allocation:run", args=[run.pk]), {"result": "short"}
    ).content.decode()
    assert f'href="{export_url(run)}?result=short"' in page
    assert f'href="{export_url(run, "xlsx")}?result=short"' in page
