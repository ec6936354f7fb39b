"""Planning files uploaded in the back office go through the drop folder's import, in
the background, as a job run that shows its progress."""

import io
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from oms import audit
from oms.actors import Actor
from oms.errors import ActionForbidden
from oms.models import JobRun
from orders import import_folder, project_upload
from orders.models import Project
from orders.project_upload import UploadRefused, import_upload, receive_upload
from orders.tasks import send_waiting_uploads
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "project_id,site_code,market,plan_type,name\n"


@pytest.fixture
def root(settings, tmp_path):
    settings.OMS_IMPORT_DIR = tmp_path / "import"
    factories.MarketFactory(code="NYC")
    return settings.OMS_IMPORT_DIR


def upload(actor, name: str, content: bytes, capture):
    with capture(execute=True):
        return receive_upload(name=name, size=len(content), file=io.BytesIO(content), actor=actor)


def test_an_uploaded_csv_creates_its_projects_as_the_person_who_uploaded_it(
    root, coordinator_actor, django_capture_on_commit_callbacks
):
    content = (HEADER + "P1,S1,NYC,new_build,One\nP2,S2,NYC,coverage,Two\n").encode()

    run = upload(coordinator_actor, "week1.csv", content, django_capture_on_commit_callbacks)

    run.refresh_from_db()
    assert (run.name, run.status, run.created, run.failed) == ("import_projects", "succeeded", 2, 0)
    assert run.detail["file"] == "week1.csv"
    assert run.detail["uploaded_by"] == coordinator_actor.name
    assert run.detail["total_rows"] == 2 and "phase" not in run.detail
    history = Project.objects.get(external_id="P1").history.get()
    assert history.history_user == coordinator_actor.user
    assert history.history_change_reason == "planning import: week1.csv"
    assert list((root / "uploads").iterdir()) == []  # the saved copy is gone


def test_bad_rows_are_reported_per_row_and_the_good_rows_are_imported(
    root, coordinator_actor, django_capture_on_commit_callbacks
):
    content = (HEADER + "P1,S1,NYC,new_build,\nP2,S2,BOS,new_build,\nP3,,NYC,coverage,\n").encode()

    run = upload(coordinator_actor, "week2.csv", content, django_capture_on_commit_callbacks)

    run.refresh_from_db()
    assert (run.status, run.created, run.failed) == ("succeeded", 1, 2)
    assert list(Project.objects.values_list("external_id", flat=True)) == ["P1"]
    problems = {
        (r["row"], r["project_id"], p["field"])
        for r in run.detail["invalid_rows"]
        for p in r["problems"]
    }
    assert problems == {(2, "P2", "market"), (3, "P3", "site_code")}


def test_an_uploaded_parquet_file_is_imported(
    root, coordinator_actor, django_capture_on_commit_callbacks
):
    table = pa.table(
        {"project_id": ["P1"], "site_code": ["S1"], "market": ["NYC"], "plan_type": ["new_build"]}
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)

    run = upload(
        coordinator_actor, "week.parquet", buffer.getvalue(), django_capture_on_commit_callbacks
    )

    run.refresh_from_db()
    assert (run.status, run.created) == ("succeeded", 1)


def test_the_task_runs_the_drop_folders_import(
    root, coordinator_actor, django_capture_on_commit_callbacks, monkeypatch
):
    calls = []
    real = project_upload.import_project_file

    def spy(path, **kwargs):
        calls.append(path.name)
        return real(path, **kwargs)

    monkeypatch.setattr(project_upload, "import_project_file", spy)
    content = (HEADER + "P1,S1,NYC,new_build,One\n").encode()

    run = upload(coordinator_actor, "week3.csv", content, django_capture_on_commit_callbacks)

    assert calls == ["week3.csv"]
    assert project_upload.import_project_file is spy
    assert import_folder.import_project_file is real  # one implementation for both
    run.refresh_from_db()
    assert run.created == 1


def test_progress_is_written_to_the_job_run_after_each_batch(
    root, coordinator_actor, django_capture_on_commit_callbacks, monkeypatch
):
    seen = []
    real = project_upload._save_progress

    def watch(counts):
        real(counts)
        run = JobRun.objects.get(pk=counts.job_run_id)
        seen.append((run.detail.get("rows_read"), run.detail.get("total_rows"), run.created))

    monkeypatch.setattr(project_upload, "_save_progress", watch)
    rows = "".join(f"P{n},S{n},NYC,new_build,\n" for n in range(1, 2501))

    upload(
        coordinator_actor, "big.csv", (HEADER + rows).encode(), django_capture_on_commit_callbacks
    )

    assert seen == [(0, 2500, 0), (1000, 2500, 1000), (2000, 2500, 2000), (2500, 2500, 2500)]


def test_an_upload_is_imported_once_when_the_task_runs_twice(
    root, coordinator_actor, django_capture_on_commit_callbacks
):
    content = (HEADER + "P1,S1,NYC,new_build,One\n").encode()
    run = upload(coordinator_actor, "twice.csv", content, django_capture_on_commit_callbacks)

    import_upload(job_run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.created) == ("succeeded", 1)
    assert JobRun.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("week.csv", b"", "week.csv is empty."),
        ("week.xlsx", b"PK\x03\x04", "is not a .parquet or .csv file"),
        ("week", b"a,b\n", "is not a .parquet or .csv file"),
        ("week.parquet", b"project_id\nP1\n", "week.parquet is not a Parquet file"),
        ("week.csv", b"PAR1\x00\x00\x15\x04", "week.csv is not a CSV file (it holds binary data)."),
        ("week.csv", b"\xff\xfe\xfa project_id\n", "week.csv is not a CSV file in UTF-8 text."),
        ("we\x00ek.csv", b"a,b\n", "characters that are not allowed"),
        ("we\u202eek.csv", b"a,b\n", "characters that are not allowed"),
        (".hidden.csv", b"a,b\n", "not a plain file name"),
        ("x" * 300 + ".csv", b"a,b\n", "longer than 200 characters"),
    ],
)
def test_a_file_that_is_not_a_planning_file_is_refused_before_anything_is_kept(
    root, coordinator_actor, name, content, reason
):
    with pytest.raises(UploadRefused, match=None) as refused:
        receive_upload(
            name=name, size=len(content), file=io.BytesIO(content), actor=coordinator_actor
        )

    assert reason in refused.value.message
    assert JobRun.objects.count() == 0
    assert not (root / "uploads").exists() or list((root / "uploads").iterdir()) == []


def test_a_file_over_the_byte_cap_is_refused(root, coordinator_actor, settings):
    settings.OMS_IMPORT_MAX_BYTES = 20
    content = (HEADER + "P1,S1,NYC,new_build,One\n").encode()

    with pytest.raises(UploadRefused, match="larger than 20 bytes, the most an import takes"):
        receive_upload(
            name="big.csv", size=len(content), file=io.BytesIO(content), actor=coordinator_actor
        )

    assert JobRun.objects.count() == 0


def test_a_file_over_the_row_cap_fails_its_job_run_without_importing(
    root, coordinator_actor, settings, django_capture_on_commit_callbacks
):
    settings.OMS_IMPORT_MAX_ROWS = 1
    content = (HEADER + "P1,S1,NYC,new_build,\nP2,S2,NYC,new_build,\n").encode()

    run = upload(coordinator_actor, "rows.csv", content, django_capture_on_commit_callbacks)

    run.refresh_from_db()
    assert run.status == "failed"
    assert "more than 1 rows" in run.error and "Traceback" not in run.error
    assert not Project.objects.exists()


def test_a_saved_upload_swapped_for_a_link_is_not_followed(
    root, coordinator_actor, tmp_path, monkeypatch
):
    # given an upload saved and queued, whose saved copy is then replaced by a link
    secret = tmp_path / "secret.csv"
    secret.write_text(HEADER + "S1,S1,NYC,new_build,Secret\n")
    monkeypatch.setattr(project_upload.broker, "send_after_commit", lambda *a: None)
    content = (HEADER + "P1,S1,NYC,new_build,One\n").encode()
    run = receive_upload(
        name="w.csv", size=len(content), file=io.BytesIO(content), actor=coordinator_actor
    )
    saved = root / "uploads" / f"{run.pk}.csv"
    saved.unlink()
    os.symlink(secret, saved)

    import_upload(job_run_id=run.pk)

    run.refresh_from_db()
    assert run.status == "failed"
    assert not Project.objects.exists()
    assert "Secret" not in str(run.detail) + run.error
    assert run.error == (
        "The uploaded file was not read. "
        "It is a link to another file, not a file; copy the file itself in."
    )


def test_a_viewer_may_not_upload(root, viewer):
    with pytest.raises(ActionForbidden):
        receive_upload(name="w.csv", size=4, file=io.BytesIO(b"a,b\n"), actor=Actor.person(viewer))


def test_a_dry_run_reports_what_the_import_would_do_and_changes_nothing(
    root, coordinator_actor, django_capture_on_commit_callbacks
):
    market = factories.MarketFactory(code="NYC")
    factories.ProjectFactory(external_id="P1", site_code="S1", market=market, name="Old")
    content = (
        HEADER + "P1,S1,NYC,new_build,New\nP2,S2,NYC,coverage,Two\nP3,S3,XX,coverage,\n"
    ).encode()

    with django_capture_on_commit_callbacks(execute=True):
        run = receive_upload(
            name="check.csv",
            size=len(content),
            file=io.BytesIO(content),
            actor=coordinator_actor,
            dry_run=True,
        )

    run.refresh_from_db()
    assert run.dry_run and run.status == "succeeded"
    assert (run.created, run.modified, run.failed) == (1, 1, 1)
    assert [r["project_id"] for r in run.detail["invalid_rows"]] == ["P3"]
    assert list(Project.objects.values_list("external_id", "name")) == [("P1", "Old")]
    assert Project.history.count() == 1  # the factory's own


def test_an_upload_and_the_drop_folder_report_the_same_file_the_same_way(
    root, coordinator_actor, django_capture_on_commit_callbacks
):
    content = HEADER + "P1,S1,NYC,new_build,\nP2,S2,BOS,new_build,\nP3,,NYC,coverage,\n"
    incoming = import_folder.folders(root)["incoming"] / "same.csv"
    incoming.write_text(content)
    os.utime(incoming, (0, 0))
    import_folder.scan(root)
    dropped = JobRun.objects.get()
    with audit.acting(Actor.system("tests"), reason="start again"):
        Project.objects.all().delete()

    uploaded = upload(
        coordinator_actor, "same.csv", content.encode(), django_capture_on_commit_callbacks
    )

    uploaded.refresh_from_db()
    assert (uploaded.created, uploaded.failed, uploaded.status) == (
        dropped.created,
        dropped.failed,
        dropped.status,
    )
    assert uploaded.detail["invalid_rows"] == dropped.detail["invalid_rows"]
    assert uploaded.detail["rows"] == dropped.detail["rows"] == 3


def test_an_upload_whose_task_never_arrived_is_sent_again_by_the_sweep(
    root, coordinator_actor, monkeypatch
):
    # given an upload queued while the broker could not take its task
    monkeypatch.setattr(project_upload.broker, "send_after_commit", lambda *a: None)
    content = (HEADER + "P1,S1,NYC,new_build,One\n").encode()
    run = receive_upload(
        name="w.csv", size=len(content), file=io.BytesIO(content), actor=coordinator_actor
    )
    monkeypatch.undo()
    assert project_upload.send_waiting() == 0  # not waiting long enough yet

    JobRun.objects.filter(pk=run.pk).update(
        started_at=run.started_at - project_upload.WAITING_AFTER
    )
    assert send_waiting_uploads.delay().get() == 1

    run.refresh_from_db()
    assert (run.status, run.created) == ("succeeded", 1)
    assert project_upload.send_waiting() == 0
