"""A coordinator reads job runs in a real browser: an import's rows with problems as a
table, a dry run's counts as what it would have done, and the links from the list to a
run and from an allocation job to its allocation run."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from allocation import services as allocation_services
from allocation.choices import Trigger
from allocation.models import AllocationRun
from oms.models import JobRun
from tests import factories
from tests.allocation.builders import make_world

# The live server runs in another thread: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="joan", role="coordinator")


def test_an_import_lists_its_rows_with_problems_as_a_table(sign_in, coordinator, tmp_path):
    market = factories.MarketFactory(code="NYC")
    planning_file = tmp_path / "planning-week-12.csv"
    planning_file.write_text(
        "project_id,site_code,market,plan_type\n"
        f"P-1,S-1,{market.code},new_build\n"
        "P-2,S-2,XX,new_build\n"
        f"P-3,,{market.code},new_build\n"
    )
    call_command("import_projects", str(planning_file), "--no-progress")
    run = JobRun.objects.get(name="import_projects")
    page = sign_in(coordinator)

    page.get_by_role("navigation").get_by_role("link", name="Job runs").click()
    page.get_by_role("link", name=f"import_projects #{run.pk}").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(f"import_projects #{run.pk}")
    details = page.get_by_role("definition").filter(has_text="planning-week-12.csv")
    expect(details).to_have_text(str(planning_file))
    table = page.get_by_role("region", name="Rows with problems").get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(["Row", "Project", "Field", "Problem"])
    expect(table.get_by_role("row", name="P-2").get_by_role("cell")).to_have_text(
        ["2", "P-2", "market", "Unknown market 'XX'."]
    )
    expect(table.get_by_role("row", name="P-3")).to_contain_text("site_code")
    expect(page.locator("main")).not_to_contain_text("{'row'")
    expect(page.locator("main")).not_to_contain_text("&#x27;")


def test_a_dry_run_job_says_what_it_would_have_done_and_links_its_allocation_run(
    sign_in, coordinator
):
    world = make_world()
    item = world.items[0]
    factories.stock(world.a, item, 10)
    world.approved([(item, 4)])
    allocation_services.allocation_run_request(
        actor=factories.SETUP, trigger=Trigger.COMMAND, dry_run=True
    )
    allocation_run = AllocationRun.objects.get()
    job = JobRun.objects.get(name="allocation")
    assert (allocation_run.dry_run, job.created, job.modified) == (True, 1, 1)
    page = sign_in(coordinator)

    page.goto(page.url + "jobs/")
    row = page.get_by_role("row", name=f"allocation #{job.pk}")
    expect(row).to_contain_text("dry run")
    row.get_by_role("link", name=f"allocation #{job.pk}").click()

    counts = page.get_by_role("definition").filter(has_text="dry run")
    expect(counts).to_have_text("would create 1, would modify 1 — dry run, nothing changed")
    expect(page.get_by_role("heading", level=1)).to_contain_text("dry run: nothing was changed")
    expect(page.locator("main")).not_to_contain_text("created 1")
    expect(page.locator("main")).to_contain_text("Units that would be reserved")
    page.get_by_role("link", name=f"Allocation run #{allocation_run.pk}").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Dry run #{allocation_run.pk}")
    page.get_by_role("link", name=f"#{job.pk}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"allocation #{job.pk}")
