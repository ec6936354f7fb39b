"""The Import projects page: a coordinator uploads a planning file, follows its import
and reads its outcome; a refused file says why, never a server error."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from oms.models import JobRun
from orders.models import Project
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "project_id,site_code,market,plan_type,name\n"
URL = "/orders/projects/import/"


@pytest.fixture
def root(settings, tmp_path):
    settings.OMS_IMPORT_DIR = tmp_path / "import"
    factories.MarketFactory(code="NYC")
    return settings.OMS_IMPORT_DIR


def post(client, name, content, capture):
    with capture(execute=True):
        return client.post(URL, {"file": SimpleUploadedFile(name, content)})


def test_a_good_csv_creates_its_projects_and_the_page_shows_the_counts(
    root, coordinator_client, django_capture_on_commit_callbacks
):
    content = (HEADER + "P1,S1,NYC,new_build,One\nP2,S2,NYC,coverage,Two\n").encode()

    response = post(coordinator_client, "week1.csv", content, django_capture_on_commit_callbacks)

    run = JobRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:import_run", args=[run.pk])
    assert Project.objects.count() == 2
    page = coordinator_client.get(response["Location"]).content.decode()
    assert "Import of week1.csv" in page
    assert "created 2, modified 0, skipped 0, failed 0" in page
    assert "hx-trigger" not in page  # done: nothing more to follow
    assert f'href="/jobs/{run.pk}/"' in page


def test_rows_with_problems_are_listed_and_the_good_rows_imported(
    root, coordinator_client, django_capture_on_commit_callbacks
):
    content = (HEADER + "P1,S1,NYC,new_build,\nP2,S2,BOS,new_build,\n").encode()

    response = post(coordinator_client, "week2.csv", content, django_capture_on_commit_callbacks)

    fragment = coordinator_client.get(response["Location"], headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert "<html" not in html
    assert "Rows with problems" in html
    assert "<td>2</td><td>P2</td><td>market</td><td>Unknown market &#x27;BOS&#x27;.</td>" in html
    assert "created 1, modified 0, skipped 0, failed 1" in html
    assert list(Project.objects.values_list("external_id", flat=True)) == ["P1"]


def test_a_queued_import_is_followed_every_second(root, coordinator_client):
    # given an upload whose task has not run yet (the commit callback is not run)
    coordinator_client.post(
        URL, {"file": SimpleUploadedFile("w.csv", HEADER.encode() + b"P1,S1,NYC,new_build,\n")}
    )
    run = JobRun.objects.get()

    html = coordinator_client.get(reverse("orders:import_run", args=[run.pk])).content.decode()

    assert 'hx-trigger="every 1s"' in html
    assert "Queued" in html


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "Choose a file to upload."),
        ({"file": SimpleUploadedFile("w.csv", b"")}, "The file is empty."),
        (
            {"file": SimpleUploadedFile("w.xlsx", b"PK\x03\x04")},
            "w.xlsx is not a .parquet or .csv file",
        ),
        ({"file": SimpleUploadedFile("w.parquet", b"a,b\n")}, "w.parquet is not a Parquet file"),
        ({"file": "not a file"}, "Choose a file to upload."),
    ],
)
def test_a_refused_upload_says_why_and_keeps_nothing(root, coordinator_client, files, message):
    response = coordinator_client.post(URL, files)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not JobRun.objects.exists()


def raw_post(client, filename: bytes, content: bytes):
    """A multipart body as a browser (or anyone) may send it, file name bytes as given."""
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\n'
        + b"Content-Type: text/csv\r\n\r\n"
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(URL, body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize(
    "filename",
    ["w\u202ecsv.csv".encode(), b"w\x00.csv", "w\u0085.csv".encode(), b"w\x1b[31m.csv"],
)
def test_odd_characters_in_a_file_name_never_reach_the_import(root, coordinator_client, filename):
    # Django drops unprintable characters from an upload's name before any view sees
    # it; the import service refuses them from any other caller (test_project_upload).
    raw_post(coordinator_client, filename, HEADER.encode() + b"P1,S1,NYC,new_build,\n")

    for run in JobRun.objects.all():
        assert run.detail["file"].isprintable()


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        (b".hidden.csv", "not a plain file name"),
        (b"x" * 300 + b".csv", "longer than 200 characters"),
        (b"week.csv.exe", "week.csv.exe is not a .parquet or .csv file"),
    ],
)
def test_a_file_name_that_is_not_a_plain_planning_file_name_is_refused(
    root, coordinator_client, filename, message
):
    response = raw_post(coordinator_client, filename, HEADER.encode() + b"P1,S1,NYC,new_build,\n")

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not JobRun.objects.exists()


def test_a_file_over_the_byte_cap_is_refused_while_it_streams_in(
    root, coordinator_client, settings
):
    settings.OMS_IMPORT_MAX_BYTES = 100
    content = (HEADER + "P1,S1,NYC,new_build,One\n" * 20).encode()

    response = coordinator_client.post(URL, {"file": SimpleUploadedFile("big.csv", content)})

    assert response.status_code == 400
    assert "big.csv is larger than 100 bytes" in response.content.decode()
    assert not JobRun.objects.exists()


def test_the_upload_form_needs_the_csrf_token(root, coordinator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)

    response = client.post(URL, {"file": SimpleUploadedFile("w.csv", b"a,b\n")})

    assert response.status_code == 403


def test_a_viewer_may_not_import_projects(root, viewer_client):
    assert viewer_client.get(URL).status_code == 403
    response = viewer_client.post(URL, {"file": SimpleUploadedFile("w.csv", HEADER.encode())})
    assert response.status_code == 403
    assert not JobRun.objects.exists()


def test_a_job_run_that_is_not_an_upload_has_no_import_page(root, coordinator_client):
    other = JobRun.objects.create(name="import_projects", detail={"file": "dropped.csv"})
    assert coordinator_client.get(reverse("orders:import_run", args=[other.pk])).status_code == 403
    another = JobRun.objects.create(name="design_events")
    assert (
        coordinator_client.get(reverse("orders:import_run", args=[another.pk])).status_code == 404
    )


def test_the_job_runs_page_and_the_dashboard_link_to_the_import(root, coordinator_client):
    for url in ("/jobs/", "/"):
        assert f'href="{URL}"' in coordinator_client.get(url).content.decode()


def test_a_viewer_sees_no_link_to_the_import(root, viewer_client):
    assert f'href="{URL}"' not in viewer_client.get("/jobs/").content.decode()


def test_check_only_reports_the_rows_and_changes_nothing(
    root, coordinator_client, django_capture_on_commit_callbacks
):
    content = (HEADER + "P1,S1,NYC,new_build,\nP2,S2,BOS,new_build,\n").encode()

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(
            URL, {"file": SimpleUploadedFile("check.csv", content), "dry_run": "on"}
        )

    html = coordinator_client.get(response["Location"]).content.decode()
    assert "checked only, nothing changed: 1 of 2 rows would be imported" in html
    assert "would create 1, would fail 1" not in html  # the counts say it in job words
    assert "dry run, nothing changed" in html
    assert "Unknown market" in html
    assert not Project.objects.exists()


def test_an_import_page_for_a_number_no_run_could_have_is_not_found(root, coordinator_client):
    assert coordinator_client.get(f"{URL}{'9' * 30}/").status_code == 404
