"""A coordinator uploads a planning file in a real browser, follows its import and
reads its rows with problems and its counts."""

import pytest
from playwright.sync_api import expect

from oms.models import JobRun
from orders import project_upload
from orders.models import Project
from orders.tasks import import_uploaded_projects
from tests import factories

# The live server runs in another thread: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

CSV = (
    "project_id,site_code,market,plan_type,name\n"
    "P-1,S-1,NYC,new_build,Midtown rooftop\n"
    "P-2,S-2,XX,new_build,Harbor tower\n"
    "P-3,S-3,NYC,coverage,Bridge street\n"
)


@pytest.fixture
def coordinator(settings, tmp_path):
    settings.OMS_IMPORT_DIR = tmp_path / "import"
    factories.MarketFactory(code="NYC")
    return factories.UserFactory(username="joan", role="coordinator")


def choose(page, tmp_path, name="planning-week-12.csv", content=CSV):
    planning_file = tmp_path / name
    planning_file.write_text(content)
    page.get_by_label("Planning file (.parquet or .csv)").set_input_files(str(planning_file))


def test_an_upload_with_a_bad_row_shows_that_row_and_the_counts(sign_in, coordinator, tmp_path):
    page = sign_in(coordinator)
    page.get_by_role("navigation").get_by_role("link", name="Job runs").click()
    page.get_by_role("link", name="Import projects from a planning file").click()

    choose(page, tmp_path)
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Import of planning-week-12.csv")
    status = page.get_by_role("region", name="Import status")
    expect(status.get_by_role("status")).to_have_text(
        "Done 2 of 3 rows imported; 1 with problems left out (listed below)"
    )
    expect(status).to_contain_text("created 2, modified 0, skipped 0, failed 1")
    table = page.get_by_role("region", name="Rows with problems").get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(["Row", "Project", "Field", "Problem"])
    expect(table.get_by_role("row", name="P-2").get_by_role("cell")).to_have_text(
        ["2", "P-2", "market", "Unknown market 'XX'."]
    )
    run = JobRun.objects.get()
    status.get_by_role("link", name=f"import_projects #{run.pk}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"import_projects #{run.pk}")
    assert sorted(Project.objects.values_list("external_id", flat=True)) == ["P-1", "P-3"]


def test_the_page_follows_a_queued_import_until_it_is_done(
    sign_in, coordinator, tmp_path, monkeypatch
):
    # given a worker that has not picked the upload up yet
    waiting = []
    monkeypatch.setattr(
        project_upload.broker, "send_after_commit", lambda task, *args: waiting.append(args)
    )
    page = sign_in(coordinator)
    page.goto(page.url + "orders/projects/import/")

    choose(page, tmp_path)
    page.get_by_role("button", name="Upload").click()

    status = page.get_by_role("region", name="Import status").get_by_role("status")
    expect(status).to_contain_text("Queued")
    # when the worker runs it, the page (polling every second) shows the outcome
    ((job_run_id,),) = waiting
    import_uploaded_projects.delay(job_run_id)
    expect(status).to_contain_text("Done", timeout=5_000)
    expect(page.get_by_role("region", name="Import status")).to_contain_text("failed 1")
    expect(page.get_by_role("region", name="Rows with problems")).to_contain_text("P-2")


def test_a_refused_file_says_why_on_the_form(sign_in, coordinator, tmp_path):
    page = sign_in(coordinator)
    page.get_by_role("link", name="Import projects").click()

    choose(page, tmp_path, name="empty.csv", content="")
    page.get_by_role("button", name="Upload").click()

    expect(page.locator(".errorlist")).to_have_text("The file is empty.")
    assert not JobRun.objects.exists()


def test_check_only_lists_the_bad_row_and_creates_nothing(sign_in, coordinator, tmp_path):
    page = sign_in(coordinator)
    page.get_by_role("link", name="Import projects").click()

    choose(page, tmp_path)
    page.get_by_label("Check only, change nothing").check()
    page.get_by_role("button", name="Upload").click()

    status = page.get_by_role("region", name="Import status")
    expect(status.get_by_role("status")).to_have_text(
        "Done checked only, nothing changed: 2 of 3 rows would be imported; "
        "1 have problems (listed below)"
    )
    expect(status).to_contain_text("would create 2, failed 1 — dry run, nothing changed")
    expect(page.get_by_role("region", name="Rows with problems")).to_contain_text("P-2")
    assert not Project.objects.exists()
