"""A job run's detail as a person reads it: fields and tables, never Python's repr; a
dry run's counts as what it would have done; links to the runs it names."""

import pytest
from django.core import mail
from django.urls import reverse

from oms.job_details import counts_text, job_report
from oms.jobs import job_run
from oms.models import JobRun

pytestmark = pytest.mark.django_db


def run_with(detail, **counts) -> JobRun:
    return JobRun.objects.create(
        name="job", status=JobRun.Status.SUCCEEDED, detail=detail, **counts
    )


def fields(run) -> dict[str, list[tuple[str, str]]]:
    return {f.label: [(p.text, p.url) for p in f.parts] for f in job_report(run).fields}


def test_a_text_detail_is_shown_whole():
    run = run_with({"source": "backlog", "file": "week-12.csv"})
    assert fields(run) == {"Sent by": [("backlog", "")], "File": [("week-12.csv", "")]}


def test_invalid_import_rows_are_a_table_of_row_project_field_and_problem():
    rows = [
        {
            "row": 7,
            "project_id": "P-7",
            "outcome": "invalid",
            "problems": [
                {"code": "unknown", "field": "market", "message": "Unknown market 'XX'."},
                {"code": "required", "field": "site_code", "message": "site_code is required."},
            ],
        },
        {"row": 9, "project_id": "", "outcome": "invalid", "problems": []},
    ]
    (table,) = job_report(run_with({"rows": 10, "invalid_rows": rows}, failed=2)).tables
    assert (table.title, table.columns) == (
        "Rows with problems",
        ("Row", "Project", "Field", "Problem"),
    )
    assert table.rows == [
        ("7", "P-7", "market", "Unknown market 'XX'."),
        ("7", "P-7", "site_code", "site_code is required."),
        ("9", "—", "—", "—"),
    ]
    assert table.note == ""


def test_a_table_says_when_it_keeps_only_the_first_rows():
    rows = [{"row": n, "project_id": f"P-{n}", "problems": []} for n in range(1, 21)]
    (table,) = job_report(run_with({"invalid_rows": rows}, failed=57)).tables
    assert table.note == "The first 20 of the 57 rows with problems are kept here."


def test_a_dry_run_says_what_it_would_have_done_and_that_nothing_changed():
    run = run_with({"dry_run": True}, created=24, modified=5, skipped=0)
    assert counts_text(run) == "would create 24, would modify 5 — dry run, nothing changed"
    assert counts_text(run_with({"dry_run": True})) == (
        "would change nothing — dry run, nothing changed"
    )


def test_a_run_that_changed_things_says_what_it_did():
    run = run_with({"dry_run": False}, created=24, modified=5, skipped=1, failed=2)
    assert counts_text(run) == "created 24, modified 5, skipped 1, failed 2"


def test_a_dry_run_allocation_job_labels_its_numbers_as_what_would_be():
    run = run_with({"allocation_run": 12, "dry_run": True, "allocated": 3, "units_reserved": 40})
    shown = fields(run)
    assert shown["Allocation run"] == [("Allocation run #12", reverse("allocation:run", args=[12]))]
    assert shown["Dry run"] == [("yes: nothing was changed", "")]
    assert shown["Orders that would be allocated"] == [("3", "")]
    assert shown["Units that would be reserved"] == [("40", "")]


def test_invalid_events_link_to_the_dead_letters_and_an_earlier_import_to_its_job():
    shown = fields(run_with({"invalid": ["evt-1"], "imported_by_job_run": 4}))
    assert shown["Events put in the dead letters"] == [
        ("evt-1", reverse("orders:design_event", args=["evt-1"]))
    ]
    assert shown["Imported before by"] == [("Job run #4", reverse("job", args=[4]))]


@pytest.mark.parametrize(
    "detail",
    [
        {"odd": {"a": [1, {"b": None}]}},
        {"list": [[1, 2], "x"]},
        {"allocation_run": "12; drop"},
        {"invalid": "not a list"},
        {"sample": "not rows"},
        {"invalid_rows": ["not a dict"]},
        ["a", "list"],
        "text",
    ],
)
def test_any_detail_is_shown_readably_and_the_page_never_fails(coordinator_client, detail):
    run = run_with(detail)
    page = coordinator_client.get(reverse("job", args=[run.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "{&#x27;" not in text and "[&#x27;" not in text


def test_the_dry_run_mail_says_what_it_would_have_done(settings):
    settings.OMS_OPS_EMAILS = ["ops@example.com"]
    with job_run("allocation", context={"dry_run": True}) as counts:
        counts.add("created", 3)
    assert "Would create 3 — dry run, nothing changed" in mail.outbox[-1].body


def test_the_fields_read_in_a_fixed_order_whatever_order_the_database_keeps():
    run = run_with({"units_reserved": 1, "zeta": 2, "allocation_run": 3, "eligible": 4})
    assert list(fields(run)) == ["Allocation run", "Eligible orders", "Units reserved", "Zeta"]
