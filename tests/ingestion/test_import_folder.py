"""The drop folder: each file in incoming/ is imported once by checksum and moved to
processed/ or failed/, with a job run per file."""

import datetime
import os
import subprocess
import sys
import time
import tracemalloc

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.urls import reverse

from oms.celery import app as celery_app
from oms.models import JobRun
from orders import import_folder
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


def sha256_of(path) -> str:
    with path.open("rb") as file:
        return file_sha256(file)


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
    ImportedFile.objects.create(name="big.csv", sha256=sha256_of(path))

    assert scan_import_dir() == {"busy": 1}
    assert names(root / "incoming") == ["big.csv"]
    assert not Project.objects.exists()


def test_a_file_whose_worker_died_is_taken_over(root):
    path = drop(root, "big.csv", HEADER + "P1,S1,NYC,new_build,\n")
    record = ImportedFile.objects.create(name="big.csv", sha256=sha256_of(path))
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


# --- What the drop folder refuses ---------------------------------------------------------

SECRET = "SECRET-1,S1,NYC,new_build,Contents only the server may read\n"


@pytest.fixture
def outside(tmp_path):
    """An importable file outside the drop folder."""
    path = tmp_path / "elsewhere" / "secret.csv"
    path.parent.mkdir()
    path.write_text(HEADER + SECRET, encoding="utf-8")
    then = time.time() - 60
    os.utime(path, (then, then))
    return path


def assert_refused(root, name: str, reason: str) -> JobRun:
    """The file was moved to failed/ unread, with a failed job run saying why."""
    assert names(root / "incoming") == []
    assert names(root / "failed") == [name]
    assert not Project.objects.exists()
    assert not ImportedFile.objects.exists()
    run = JobRun.objects.get()
    assert (run.name, run.status, run.detail["file"]) == ("import_projects", "failed", name)
    assert reason in run.error
    assert "Traceback" not in run.error
    return run


def test_a_symbolic_link_is_refused_and_what_it_points_to_never_shows(root, outside, client):
    link = root / "incoming" / "projects.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    then = time.time() - 60
    os.utime(link, (then, then), follow_symlinks=False)

    assert scan_import_dir() == {"failed": 1}

    run = assert_refused(root, "projects.csv", "It is a link to another file")
    assert "Contents only" not in f"{run.detail} {run.error}"
    client.force_login(factories.UserFactory(role="viewer"))
    page = client.get(reverse("job", args=[run.pk])).content.decode()
    assert "It is a link to another file" in page
    assert "Contents only" not in page and "SECRET-1" not in page
    assert (root / "failed" / "projects.csv").is_symlink()
    assert outside.read_text(encoding="utf-8") == HEADER + SECRET


def test_a_link_swapped_in_after_the_scan_looked_is_not_followed(root, outside):
    # given a file the scan found regular, replaced by a link before it is opened
    paths = import_folder.folders(root)
    link = paths["incoming"] / "projects.csv"
    link.symlink_to(outside)

    assert import_folder.import_dropped_file(link, paths) == "failed"

    run = assert_refused(root, "projects.csv", "It is a link to another file")
    assert "Contents only" not in f"{run.detail} {run.error}"


def test_a_hard_link_to_a_file_elsewhere_is_refused(root, outside):
    incoming = root / "incoming"
    incoming.mkdir(parents=True)
    os.link(outside, incoming / "projects.csv")

    assert scan_import_dir() == {"failed": 1}

    run = assert_refused(root, "projects.csv", "hard link")
    assert "Contents only" not in f"{run.detail} {run.error}"


def test_a_folder_in_incoming_is_refused(root):
    (root / "incoming" / "week1.csv").mkdir(parents=True)
    old = time.time() - 60
    os.utime(root / "incoming" / "week1.csv", (old, old))

    assert scan_import_dir() == {"failed": 1}

    assert_refused(root, "week1.csv", "not a regular file")


def test_a_file_of_unknown_type_is_recorded_as_failed_without_being_read(root):
    drop(root, "projects.xlsx", b"PK\x03\x04")

    assert scan_import_dir() == {"failed": 1}

    assert_refused(root, "projects.xlsx", "Its type is not one OMS imports; use .parquet or .csv.")


@pytest.mark.parametrize("name", [".projects.csv", "projects.csv.part", "projects.tmp"])
def test_an_abandoned_temporary_file_is_recorded_as_failed(root, name):
    drop(root, name, HEADER + "P1,S1,NYC,new_build,One\n", age=16 * 60)

    assert scan_import_dir() == {"failed": 1}

    assert_refused(root, name, "Its temporary name was left unchanged for 15 minutes")


# --- Caps ---------------------------------------------------------------------------------


def test_a_file_with_more_rows_than_the_cap_is_refused_whole(root, settings):
    settings.OMS_IMPORT_MAX_ROWS = 2
    drop(root, "week1.csv", HEADER + "".join(f"P{n},S{n},NYC,new_build,\n" for n in range(3)))

    assert scan_import_dir() == {"failed": 1}

    assert not Project.objects.exists()
    assert names(root / "failed") == ["week1.csv"]
    run = ImportedFile.objects.get().job_run
    assert run.status == "failed"
    assert run.error == (
        "week1.csv has more than 2 rows; split it into smaller files (OMS_IMPORT_MAX_ROWS). "
        "The file was not imported."
    )


def test_a_csv_file_larger_than_the_cap_is_refused_before_it_is_read(root, settings):
    content = HEADER + "".join(f"P{n},S{n},NYC,new_build,\n" for n in range(100))
    settings.OMS_IMPORT_MAX_BYTES = len(content) - 1
    drop(root, "week1.csv", content)

    assert scan_import_dir() == {"failed": 1}

    assert not Project.objects.exists()
    error = ImportedFile.objects.get().job_run.error
    assert "holds more than" in error
    assert "once decompressed; split it into smaller files (OMS_IMPORT_MAX_BYTES)" in error


BOMB = """
import sys, pyarrow as pa, pyarrow.parquet as pq
rows, size = int(sys.argv[2]), int(sys.argv[3])
columns = ("project_id", "site_code", "market", "plan_type", "name")
schema = pa.schema([(c, pa.string()) for c in columns])
with pq.ParquetWriter(sys.argv[1], schema, compression="zstd", compression_level=19,
                      use_dictionary=False) as writer:
    for group in range(rows // 50):
        ids = [f"P{group * 50 + n}" for n in range(50)]
        writer.write_table(pa.table({"project_id": ids, "site_code": ids, "market": ["NYC"] * 50,
            "plan_type": ["new_build"] * 50, "name": ["x" * size] * 50}, schema=schema))
"""


def test_a_parquet_bomb_is_refused_from_its_footer_with_little_memory(root, settings, tmp_path):
    # given a zstd Parquet file of under 32 KiB that holds 300 MiB once decompressed
    # (made in another process, so that this one's memory shows only the import)
    settings.OMS_IMPORT_MAX_BYTES = 128 * 1024 * 1024
    bomb = tmp_path / "bomb.parquet"
    subprocess.run([sys.executable, "-c", BOMB, str(bomb), "300", str(1024 * 1024)], check=True)
    on_disk = bomb.stat().st_size
    drop(root, "bomb.parquet", bomb.read_bytes())

    # when the drop folder is scanned
    pool = pa.default_memory_pool()
    tracemalloc.start()
    try:
        assert scan_import_dir() == {"failed": 1}
        _, python_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # then it is refused whole, reading no more than its footer
    assert not Project.objects.exists()
    assert names(root / "failed") == ["bomb.parquet"]
    run = ImportedFile.objects.get().job_run
    assert run.status == "failed"
    assert run.error.startswith("bomb.parquet holds more than 128 MiB of data once decompressed")
    print(
        f"\nbomb: {on_disk / 1024:.0f} KiB on disk, 300 MiB decompressed; refused with "
        f"Python peak {python_peak / 1024 / 1024:.1f} MiB, Arrow peak "
        f"{pool.max_memory() / 1024 / 1024:.1f} MiB"
    )
    assert on_disk < 32 * 1024
    assert pool.max_memory() < 16 * 1024 * 1024
    assert python_peak < 16 * 1024 * 1024


def test_a_parquet_file_whose_footer_understates_its_data_is_stopped_while_read(
    root, settings, tmp_path
):
    # given dictionary-encoded repeats: small in the footer, 2 MiB once decoded
    settings.OMS_IMPORT_MAX_BYTES = 1024 * 1024
    rows = [
        {
            "project_id": f"P{n}",
            "site_code": "S",
            "market": "NYC",
            "plan_type": "new_build",
            "name": "x" * 1000,
        }
        for n in range(2000)
    ]
    path = tmp_path / "repeats.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, compression="zstd")
    assert pq.ParquetFile(path).metadata.row_group(0).total_byte_size < 1024 * 1024
    drop(root, "repeats.parquet", path.read_bytes())

    assert scan_import_dir() == {"failed": 1}

    assert not Project.objects.exists()
    assert "holds more than 1,024 KiB" not in ImportedFile.objects.get().job_run.error
    assert "holds more than 1 MiB of data" in ImportedFile.objects.get().job_run.error


def test_a_parquet_file_repeating_one_huge_value_is_refused_before_it_is_written_out(
    root, tmp_path
):
    # given 300 rows that share one dictionary-encoded 1 MiB name: about 1 MiB in the
    # footer and on disk much less, 300 MiB once every row's name is written out
    rows = [
        {"project_id": f"P{n}", "site_code": "S", "market": "NYC", "plan_type": "new_build"}
        for n in range(300)
    ]
    table = pa.Table.from_pylist(rows).append_column(
        "name", pa.DictionaryArray.from_arrays(pa.array([0] * 300), pa.array(["x" * 2**20]))
    )
    path = tmp_path / "repeat.parquet"
    pq.write_table(table, path, compression="zstd")
    assert path.stat().st_size < 64 * 1024
    drop(root, "repeat.parquet", path.read_bytes())
    table = None
    pool = pa.default_memory_pool()
    before = pool.bytes_allocated()

    assert scan_import_dir() == {"failed": 1}

    assert not Project.objects.exists()
    run = ImportedFile.objects.get().job_run
    assert run.error.startswith("repeat.parquet holds more than 128 MiB of data once decompressed")
    print(f"\nrepeated value: Arrow peak {pool.max_memory() / 2**20:.1f} MiB")
    assert pool.max_memory() - before < 32 * 2**20
