"""Project master data from the planning system: validation, the batched upsert with
its history, gates lifted by milestones, the file readers and the import command."""

import csv
import datetime
from decimal import Decimal
from io import StringIO

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oms import correlation
from oms.actors import Actor
from oms.errors import ActionForbidden
from oms.jobs import JobCounts
from oms.models import JobRun
from orders.choices import OrderType, ProjectStatus
from orders.models import Project
from orders.project_files import (
    FileTooLargeError,
    Limits,
    ProjectFileError,
    import_project_file,
    open_rows,
)
from orders.project_import import Outcome, markets_by_code, upsert_projects, validate_row
from tests import factories
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db

PLANNING = Actor.system("planning-import")
TODAY = datetime.date.today()


@pytest.fixture
def market():
    return factories.MarketFactory(code="NYC", region=factories.RegionFactory(code="EAST"))


def row(project_id="PRJ-1", **values) -> dict:
    return {
        "project_id": project_id,
        "site_code": "SITE-1",
        "market": "NYC",
        "plan_type": "new_build",
        **values,
    }


def row_for(project: Project, **values) -> dict:
    return row(
        project.external_id,
        site_code=project.site_code,
        market=project.market.code,
        plan_type=project.plan_type,
        **values,
    )


def upsert(rows, **kwargs):
    return upsert_projects(rows, actor=kwargs.pop("actor", PLANNING), **kwargs)


# --- Validation -------------------------------------------------------------------------


def problems_of(raw: dict) -> list[tuple[str, str]]:
    values, problems = validate_row(raw, markets_by_code())
    assert (values is None) == bool(problems)
    return [(p.field, p.code) for p in problems]


def test_a_complete_row_gives_the_model_values(market):
    values, problems = validate_row(
        row(
            name=" Rooftop ",
            region="EAST",
            status="on_hold",
            latitude="40.7549321",
            longitude=-73.984016,
            site_acquired_on="2026-01-12",
            design_complete_on=datetime.datetime(2026, 2, 1, 9, 30),
            permits_approved_on=datetime.date(2026, 3, 1),
            notice_to_proceed_on="",
        ),
        markets_by_code(),
    )
    assert problems == []
    assert values == {
        "external_id": "PRJ-1",
        "site_code": "SITE-1",
        "name": "Rooftop",
        "market": market,
        "plan_type": "new_build",
        "status": "on_hold",
        "latitude": Decimal("40.754932"),
        "longitude": Decimal("-73.984016"),
        "site_acquired_on": datetime.date(2026, 1, 12),
        "design_complete_on": datetime.date(2026, 2, 1),
        "permits_approved_on": datetime.date(2026, 3, 1),
        "notice_to_proceed_on": None,
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"site_code": "S1", "market": "NYC", "plan_type": "new_build"},
            ("project_id", "required"),
        ),
        (row(site_code="  "), ("site_code", "required")),
        (row(market=None), ("market", "required")),
        (row(plan_type=""), ("plan_type", "required")),
        (row(plan_type="greenfield"), ("plan_type", "invalid_choice")),
        (row(status="paused"), ("status", "invalid_choice")),
        (row(project_id="A/B"), ("project_id", "invalid_characters")),
        (row(project_id="P\x00"), ("project_id", "invalid_characters")),
        (row(project_id="P" * 41), ("project_id", "too_long")),
        (row(name={"text": "x"}), ("name", "invalid_type")),
        (row(site_code=True), ("site_code", "invalid_type")),
        (row(latitude="north", longitude="1"), ("latitude", "invalid_number")),
        (row(latitude="NaN", longitude="1"), ("latitude", "invalid_number")),
        (row(latitude=90.5, longitude=0), ("latitude", "out_of_range")),
        (row(latitude=0, longitude=-180.1), ("longitude", "out_of_range")),
        (row(latitude=True, longitude=1), ("latitude", "invalid_type")),
        (row(latitude="10.5"), ("longitude", "coordinates_incomplete")),
        (row(latitude="", longitude="10.5"), ("latitude", "coordinates_incomplete")),
        (row(on_air_on="31/12/2026"), ("on_air_on", "invalid_date")),
        (row(on_air_on=20261231.0), ("on_air_on", "invalid_type")),
    ],
)
def test_a_bad_value_is_reported_on_its_field(market, raw, expected):
    assert problems_of(raw) == [expected]


def test_an_unknown_market_is_refused(market):
    assert problems_of(row(market="BOS")) == [("market", "unknown")]


def test_the_region_given_must_be_the_markets_region(market):
    assert problems_of(row(region="WEST")) == [("region", "region_mismatch")]
    assert problems_of(row(region="EAST")) == []


def test_a_milestone_cannot_be_before_an_earlier_one(market):
    assert problems_of(
        row(
            site_acquired_on="2026-03-01",
            design_complete_on="2026-02-01",
            permits_approved_on="2026-03-02",
        )
    ) == [("design_complete_on", "milestone_order")]
    # Milestones not reached yet are skipped; the same day is fine.
    assert problems_of(row(site_acquired_on="2026-03-01", on_air_on="2026-03-01")) == []


def test_dates_come_as_iso_strings_datetimes_or_pyarrow_values(market):
    table = pa.table({"d": pa.array([datetime.date(2026, 5, 1)], pa.date32())})
    values, problems = validate_row(
        row(
            site_acquired_on=table.column("d")[0],
            design_complete_on="2026-05-02T08:00:00+02:00",
            permits_approved_on=datetime.datetime(2026, 5, 3, 23, 59),
        ),
        markets_by_code(),
    )
    assert problems == []
    assert [
        values[f] for f in ("site_acquired_on", "design_complete_on", "permits_approved_on")
    ] == [
        datetime.date(2026, 5, 1),
        datetime.date(2026, 5, 2),
        datetime.date(2026, 5, 3),
    ]


# --- Upsert -----------------------------------------------------------------------------


def test_new_projects_are_created_with_history_by_the_planning_system(market):
    with correlation.use("trace-import-1"):
        result = upsert([row("PRJ-1", name="One"), row("PRJ-2")], reason="planning import: a.csv")

    assert result.counts == {"created": 2, "modified": 0, "unchanged": 0, "invalid": 0}
    assert [(o.row, o.project_id, o.outcome) for o in result.outcomes] == [
        (1, "PRJ-1", Outcome.CREATED),
        (2, "PRJ-2", Outcome.CREATED),
    ]
    project = Project.objects.get(external_id="PRJ-1")
    assert (project.name, project.market, project.status) == ("One", market, ProjectStatus.ACTIVE)
    record = project.history.get()
    assert (record.history_type, record.actor_kind, record.actor_name) == (
        "+",
        "system",
        "planning-import",
    )
    assert record.history_change_reason == "planning import: a.csv"
    assert record.correlation_id == "trace-import-1"
    assert record.history_user is None


def test_a_changed_project_is_updated_and_its_history_says_who_and_why(market):
    project = factories.ProjectFactory(market=market, name="Old name")
    before = project.updated_at

    result = upsert([row_for(project, name="New name")], reason="planning import: b.parquet")

    assert result.counts["modified"] == 1
    project.refresh_from_db()
    assert project.name == "New name"
    assert project.updated_at > before
    record = project.history.order_by("-history_id").first()
    assert (record.history_type, record.name, record.actor_name) == (
        "~",
        "New name",
        "planning-import",
    )
    assert record.history_change_reason == "planning import: b.parquet"
    assert project.history.count() == 2


def test_a_person_is_the_history_user(market):
    superuser = factories.UserFactory(is_superuser=True)
    upsert([row()], actor=Actor.person(superuser))
    record = Project.objects.get().history.get()
    assert (record.history_user, record.actor_kind) == (superuser, "person")


def test_an_unchanged_project_is_skipped_without_history(market):
    counts = JobCounts()
    upsert([row(latitude="40.5", longitude="-73.25", on_air_on="2026-10-01")], counts=counts)

    result = upsert(
        [row(latitude=40.5, longitude="-73.250000", on_air_on=datetime.date(2026, 10, 1))],
        counts=counts,
    )

    assert result.counts == {"created": 0, "modified": 0, "unchanged": 1, "invalid": 0}
    assert (counts.created, counts.skipped) == (1, 1)
    assert Project.objects.get().history.count() == 1


def test_a_column_left_out_keeps_the_stored_value_and_an_empty_one_clears_it(market):
    project = factories.ProjectFactory(market=market, name="Kept", latitude=1, longitude=2)
    upsert([row_for(project, latitude="", longitude="")])
    project.refresh_from_db()
    assert (project.name, project.latitude, project.longitude) == ("Kept", None, None)
    assert project.site_acquired_on == datetime.date(2026, 1, 10)


def test_bad_rows_are_reported_and_the_good_rows_still_import(market):
    counts = JobCounts()
    result = upsert(
        [row("PRJ-1"), row("PRJ-2", market="BOS"), row("PRJ-3", latitude=91, longitude=0)],
        counts=counts,
    )

    assert set(Project.objects.values_list("external_id", flat=True)) == {"PRJ-1"}
    assert [(o.row, o.project_id, [p.field for p in o.problems]) for o in result.invalid] == [
        (2, "PRJ-2", ["market"]),
        (3, "PRJ-3", ["latitude"]),
    ]
    assert (counts.created, counts.failed) == (1, 2)


def test_an_update_that_puts_milestones_out_of_order_is_refused(market):
    project = factories.ProjectFactory(market=market)  # design complete 2026-02-10
    result = upsert([{**row_for(project), "site_acquired_on": "2026-03-01"}])
    (outcome,) = result.outcomes
    assert outcome.outcome == Outcome.INVALID
    assert [(p.field, p.code) for p in outcome.problems] == [
        ("design_complete_on", "milestone_order")
    ]
    project.refresh_from_db()
    assert project.site_acquired_on == datetime.date(2026, 1, 10)


@pytest.mark.parametrize("batch_size", [1, 10])
def test_a_project_appears_once_per_import(market, batch_size):
    result = upsert(
        [row("PRJ-1", name="first"), row("PRJ-2"), row("PRJ-1", name="again")],
        batch_size=batch_size,
    )
    assert [o.outcome for o in result.outcomes] == [
        Outcome.CREATED,
        Outcome.CREATED,
        Outcome.INVALID,
    ]
    assert result.outcomes[2].problems[0].message == "Project PRJ-1 is already in row 1."
    assert Project.objects.get(external_id="PRJ-1").name == "first"


def test_reaching_the_release_milestone_lifts_the_gate(market):
    project = factories.ProjectFactory(
        market=market,
        site_acquired_on=TODAY - datetime.timedelta(days=100),
        design_complete_on=TODAY - datetime.timedelta(days=50),
    )
    order = factories.make_order(
        project=project,
        order_type=OrderType.SITE_BUILD,
        gated=True,
        gate_reason="Waiting for notice to proceed",
    )
    # Permits approved does not open a site build; notice to proceed in the future neither.
    upsert([row_for(project, permits_approved_on=TODAY - datetime.timedelta(days=3))])
    upsert([row_for(project, notice_to_proceed_on=TODAY + datetime.timedelta(days=30))])
    order.refresh_from_db()
    assert order.gated

    upsert([row_for(project, notice_to_proceed_on=TODAY)])

    order.refresh_from_db()
    assert (order.gated, order.gate_reason) == (False, "")
    record = order.history.first()
    assert (record.actor_name, record.history_change_reason) == (
        "planning-import",
        "gate lifted: Waiting for notice to proceed",
    )


def test_a_dry_run_reports_the_outcomes_and_writes_nothing_nor_lifts_a_gate(market):
    project = factories.ProjectFactory(
        market=market,
        site_acquired_on=TODAY - datetime.timedelta(days=100),
        design_complete_on=TODAY - datetime.timedelta(days=50),
    )
    order = factories.make_order(
        project=project, order_type=OrderType.SITE_BUILD, gated=True, gate_reason="Waiting"
    )
    history = Project.history.count()

    result = upsert(
        [row_for(project, notice_to_proceed_on=TODAY), row("NEW-1"), row("BAD", market="XX")],
        dry_run=True,
    )

    assert result.counts == {"created": 1, "modified": 1, "unchanged": 0, "invalid": 1}
    project.refresh_from_db()
    order.refresh_from_db()
    assert project.notice_to_proceed_on is None and order.gated
    assert not Project.objects.filter(external_id="NEW-1").exists()
    assert Project.history.count() == history


def test_the_queries_per_batch_do_not_grow_with_the_batch_size(market, django_assert_num_queries):
    """One query for the markets per import; per batch, in its transaction (a savepoint
    here): load the existing projects, insert the new ones and their history, update
    the changed ones and their history; then look for gated orders."""

    def rows(prefix: str, size: int) -> list[dict]:
        existing = factories.ProjectFactory.create_batch(size // 2, market=market)
        changed = [row_for(p, notice_to_proceed_on="2026-03-01") for p in existing]
        new = [row(f"{prefix}-{i}") for i in range(size - len(changed))]
        return changed + new

    small, large = rows("S", 5), rows("L", 50)
    with CaptureQueriesContext(connection) as queries:
        upsert(small, batch_size=5)
    with django_assert_num_queries(len(queries)):
        result = upsert(large, batch_size=50)
    assert result.counts == {"created": 25, "modified": 25, "unchanged": 0, "invalid": 0}
    assert len(queries) == 1 + 8, [q["sql"][:60] for q in queries]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_imports_creating_the_same_project_at_once_both_succeed(market, attempt):
    """The insert that loses the race on project_id plans its batch again."""
    outcomes = at_once(
        *[
            lambda name=name: upsert([row("PRJ-RACE", name=name)]).outcomes[0].outcome
            for name in ("a", "b")
        ]
    )

    assert sorted(map(str, outcomes)) == ["created", "modified"], outcomes
    assert Project.objects.get(external_id="PRJ-RACE").history.count() == 2


def test_a_person_without_project_permissions_is_refused(market, viewer):
    with pytest.raises(ActionForbidden):
        upsert([row()], actor=Actor.person(viewer))
    assert not Project.objects.exists()


# --- Files ------------------------------------------------------------------------------


def write_csv(path, rows: list[dict]):
    columns = list(dict.fromkeys(key for r in rows for key in r))
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_parquet(path, rows: list[dict], schema=None):
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, row_group_size=2)
    return path


def test_a_csv_file_imports_its_good_rows_and_reports_the_bad_one(market, tmp_path):
    path = write_csv(
        tmp_path / "projects.csv",
        [row("PRJ-1", latitude="40.1", longitude="-73.9"), row("PRJ-2", on_air_on="soon")]
        + [row(f"PRJ-{n}") for n in range(3, 6)],
    )
    counts = JobCounts()

    result = import_project_file(path, actor=PLANNING, counts=counts, batch_size=2)

    assert result.counts == {"created": 4, "modified": 0, "unchanged": 0, "invalid": 1}
    assert Project.objects.count() == 4
    assert Project.objects.get(external_id="PRJ-1").latitude == Decimal("40.1")
    (bad,) = result.invalid
    assert (bad.row, bad.project_id, bad.problems[0].field) == (2, "PRJ-2", "on_air_on")
    assert counts.detail["invalid_rows"][0]["row"] == 2
    record = Project.objects.get(external_id="PRJ-1").history.get()
    assert record.history_change_reason == "planning import: projects.csv"


def test_a_parquet_file_imports_typed_columns_and_reports_the_bad_row(market, tmp_path):
    schema = pa.schema(
        [
            ("Project ID", pa.string()),
            ("site_code", pa.string()),
            ("market", pa.dictionary(pa.int8(), pa.string())),
            ("plan_type", pa.string()),
            ("latitude", pa.float64()),
            ("longitude", pa.float64()),
            ("site_acquired_on", pa.date32()),
            ("notice_to_proceed_on", pa.timestamp("us")),
        ]
    )
    rows = [
        {
            "Project ID": f"PRJ-{n}",
            "site_code": f"S{n}",
            "market": "NYC",
            "plan_type": "capacity",
            "latitude": 40.25 if n != 3 else None,
            "longitude": -73.5,
            "site_acquired_on": datetime.date(2026, 1, n),
            "notice_to_proceed_on": datetime.datetime(2026, 4, 1, 12) if n == 2 else None,
        }
        for n in range(1, 6)
    ]
    path = write_parquet(tmp_path / "dump.PARQUET", rows, schema)

    result = import_project_file(path, actor=PLANNING, batch_size=3)

    assert result.counts == {"created": 4, "modified": 0, "unchanged": 0, "invalid": 1}
    (bad,) = result.invalid
    assert (bad.row, bad.project_id, bad.problems[0].field) == (3, "PRJ-3", "latitude")
    project = Project.objects.get(external_id="PRJ-2")
    assert (project.plan_type, project.latitude, project.longitude) == (
        "capacity",
        Decimal("40.25"),
        Decimal("-73.5"),
    )
    assert (project.site_acquired_on, project.notice_to_proceed_on) == (
        datetime.date(2026, 1, 2),
        datetime.date(2026, 4, 1),
    )


def test_the_parquet_reader_reads_record_batches_with_the_row_count(tmp_path):
    path = write_parquet(tmp_path / "p.parquet", [{"a": n} for n in range(5)])
    with open_rows(path, batch_rows=2) as source:
        assert (source.columns, source.total) == (["a"], 5)
        assert [r["a"] for r in source.rows] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("projects.xlsx", b"PK", r"unknown file type \.xlsx; use \.parquet or \.csv"),
        ("projects", b"", r"unknown file type \(none\)"),
        ("projects.parquet", b"not parquet at all", "not a readable Parquet file"),
        ("projects.csv", b"project_id,market\nP1,NYC\n", "no column site_code, plan_type"),
        (
            "projects.csv",
            b"project_id,site_code,market,plan_type\n\xff,S,NYC,new_build\n",
            "unreadable",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_whole(tmp_path, market, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ProjectFileError, match=message):
        import_project_file(path, actor=PLANNING)
    assert not Project.objects.exists()


# --- Command ----------------------------------------------------------------------------


def test_the_command_prints_the_counts_and_the_bad_rows(market, tmp_path):
    project = factories.ProjectFactory(market=market)
    path = write_csv(
        tmp_path / "weekly.csv",
        [
            row_for(project),
            row_for(project, name="renamed") | {"project_id": "PRJ-NEW"},
            row("PRJ-X", market="BOS"),
            row("PRJ-Y", plan_type="other"),
        ],
    )
    path.write_text(
        path.read_text() + f"{project.external_id}b,S,NYC,new_build\n", encoding="utf-8"
    )
    out = StringIO()

    call_command("import_projects", str(path), "--show", "1", "--no-progress", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "weekly.csv: 5 rows: created 2, modified 0, unchanged 1, invalid 2."
    assert lines[1:] == [
        "Invalid rows (first 1):",
        "  row 3 (PRJ-X), market: Unknown market 'BOS'.",
    ]
    run = JobRun.objects.get(name="import_projects")
    assert (run.status, run.created, run.skipped, run.failed) == ("succeeded", 2, 1, 2)
    assert run.detail["file"] == str(path)


def test_the_command_updates_with_a_modified_count(market, tmp_path):
    project = factories.ProjectFactory(market=market)
    path = write_csv(tmp_path / "p.csv", [row_for(project, status="on_hold")])
    out = StringIO()
    call_command("import_projects", str(path), "--no-progress", stdout=out)
    assert "created 0, modified 1, unchanged 0, invalid 0" in out.getvalue()
    project.refresh_from_db()
    assert project.status == ProjectStatus.ON_HOLD


def test_the_command_fails_on_an_unknown_file_type_and_records_the_failed_run(tmp_path):
    path = tmp_path / "projects.json"
    path.write_text("[]")
    with pytest.raises(CommandError, match=r"unknown file type \.json"):
        call_command("import_projects", str(path), "--no-progress", stdout=StringIO())
    run = JobRun.objects.get(name="import_projects")
    assert run.status == "failed"
    assert "unknown file type" in run.error


def test_a_parquet_file_with_more_rows_than_the_cap_is_refused_from_its_footer(tmp_path):
    path = write_parquet(tmp_path / "p.parquet", [{"a": n} for n in range(3)])
    with (
        pytest.raises(FileTooLargeError, match="more than 2 rows"),
        open_rows(path, limits=Limits(rows=2, bytes=1024 * 1024)),
    ):
        pass
    with open_rows(path, limits=Limits(rows=3, bytes=1024 * 1024)) as source:
        assert [r["a"] for r in source.rows] == [0, 1, 2]
