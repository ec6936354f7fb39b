"""The drop folder: each file in incoming/ is imported once by checksum and moved to
processed/ or failed/, with a job run per file."""

import datetime
import os
import time

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError

from oms.celery import app as celery_app
from oms.models import JobRun
from orders.import_folder import file_sha256
from orders.models import ImportedFile, Project
from orders.tasks import scan_import_dir
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "project_id,site_code,market,plan_type,name\n"


@pytest.fixture
def root(settings, tmp_path):
    settings.OMS_IMPORT_DIR = tmp_path / "import"
    factories.MarketFactory(code="NYC")
    return settings.OMS_IMPORT_DIR


def drop(root, name: str, content: str | bytes, *, age: float = 60):
    """Put a file in incoming/ as if it was copied there `age` seconds ago."""
    path = root / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_dropped_file_is_imported_and_moved_to_processed(root):
    drop(root, "week1.csv", HEADER + "P1,S1,NYC,new_build,One\nP2,S2,NYC,coverage,Two\n")

    assert scan_import_dir.delay().get() == {"processed": 1}

    assert set(Project.objects.values_list("external_id", flat=True)) == {"P1", "P2"}
    assert names(root / "incoming") == []
    assert names(root / "processed") == ["week1.csv"]
    record = ImportedFile.objects.get()
    assert (record.name, record.status) == ("week1.csv", ImportedFile.Status.PROCESSED)
    run = record.job_run
    assert (run.name, run.status, run.created) == ("import_projects", "succeeded", 2)
    assert run.detail["file"] == "week1.csv"
    history = Project.objects.get(external_id="P1").history.get()
    assert history.actor_name == "planning-import"
    assert history.correlation_id == run.correlation_id != ""


def test_rows_with_problems_do_not_fail_the_file(root):
    drop(root, "week2.csv", HEADER + "P1,S1,NYC,new_build,\nP2,S2,BOS,new_build,\n")

    assert scan_import_dir() == {"processed": 1}

    assert names(root / "processed") == ["week2.csv"]
    run = ImportedFile.objects.get().job_run
    assert (run.status, run.created, run.failed) == ("succeeded", 1, 1)
    assert run.detail["invalid_rows"][0]["row"] == 2
    assert run.detail["invalid_rows"][0]["problems"][0]["field"] == "market"


def test_the_same_content_again_is_a_duplicate_and_not_imported(root):
    content = HEADER + "P1,S1,NYC,new_build,One\n"
    drop(root, "monday.csv", content)
    scan_import_dir()
    Project.objects.filter(external_id="P1").update(name="Changed since")

    drop(root, "monday.csv", content)
    drop(root, "copy-of-monday.csv", content)
    assert scan_import_dir() == {"duplicate": 2}

    assert Project.objects.get(external_id="P1").name == "Changed since"
    processed = names(root / "processed")
    assert len(processed) == 3
    assert "copy-of-monday.csv" in processed
    assert "monday.csv" in processed
    assert ImportedFile.objects.count() == 1
    duplicates = JobRun.objects.filter(detail__duplicate_of="monday.csv")
    assert duplicates.count() == 2


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("broken.parquet", b"PAR1 not really", "not a readable Parquet file"),
        ("projects.xlsx", b"PK\x03\x04", "unknown file type .xlsx"),
        ("nocolumns.csv", "project_id\nP1\n", "no column site_code, market, plan_type"),
    ],
)
def test_a_file_that_cannot_be_imported_goes_to_failed(root, name, content, error):
    drop(root, name, content)

    assert scan_import_dir() == {"failed": 1}

    assert names(root / "failed") == [name]
    assert names(root / "incoming") == []
    record = ImportedFile.objects.get()
    assert record.status == ImportedFile.Status.FAILED
    assert record.job_run.status == "failed"
    assert error in record.job_run.error


def test_a_failed_file_dropped_again_is_tried_again(root, monkeypatch):
    def database_away(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    content = HEADER + "P1,S1,NYC,new_build,One\n"
    monkeypatch.setattr("orders.import_folder.import_project_file", database_away)
    drop(root, "a.csv", content)
    assert scan_import_dir() == {"failed": 1}
    monkeypatch.undo()

    drop(root, "a.csv", content)
    assert scan_import_dir() == {"processed": 1}

    assert Project.objects.filter(external_id="P1").exists()
    assert names(root / "failed") == ["a.csv"]
    assert names(root / "processed") == ["a.csv"]
    assert ImportedFile.objects.get().status == ImportedFile.Status.PROCESSED


def test_files_still_being_written_are_left_for_the_next_scan(root):
    drop(root, "fresh.csv", HEADER, age=0)
    drop(root, "upload.csv.part", HEADER)
    drop(root, ".upload.csv", HEADER)

    assert scan_import_dir() == {}

    assert names(root / "incoming") == [".upload.csv", "fresh.csv", "upload.csv.part"]
    assert not ImportedFile.objects.exists()


def test_a_file_another_worker_is_importing_is_left_alone(root):
    path = drop(root, "big.csv", HEADER + "P1,S1,NYC,new_build,\n")
    ImportedFile.objects.create(name="big.csv", sha256=file_sha256(path))

    assert scan_import_dir() == {"busy": 1}
    assert names(root / "incoming") == ["big.csv"]
    assert not Project.objects.exists()


def test_a_file_whose_worker_died_is_taken_over(root):
    path = drop(root, "big.csv", HEADER + "P1,S1,NYC,new_build,\n")
    record = ImportedFile.objects.create(name="big.csv", sha256=file_sha256(path))
    ImportedFile.objects.filter(pk=record.pk).update(
        updated_at=record.updated_at - datetime.timedelta(hours=2)
    )

    assert scan_import_dir() == {"processed": 1}
    assert Project.objects.filter(external_id="P1").exists()


def test_beat_scans_the_drop_folder_with_the_task():
    entry = django_settings.CELERY_BEAT_SCHEDULE["scan-import-dir"]
    assert entry["task"] in celery_app.tasks
    assert entry["task"] == scan_import_dir.name
    assert entry["schedule"] == float(django_settings.OMS_IMPORT_SCAN_SECONDS)
