"""The drop folder for planning files (OMS_IMPORT_DIR).

Files put in `incoming/` are imported once each, by content: a file whose SHA-256 was
imported before is moved to `processed/` as a duplicate without importing it again.
An imported file goes to `processed/` (rows with problems are reported in its job run,
they do not fail the file); a file that cannot be read or whose import raised goes to
`failed/` and may be dropped in again. Each file's import is a job run.

Writers should copy a file in under a temporary name (a dot first, or ending in .part
or .tmp) and rename it when complete; files changed in the last few seconds are left
for the next scan either way. A file under a temporary name left unchanged for
TEMPORARY_ABANDONED_AFTER is taken as abandoned: it is refused like the others below.

Only regular files with one name, of a known type, are read. Everything else is
refused without reading a byte of it, recorded as a failed job run with the reason and
moved to `failed/`: links (a symbolic link could show a file from anywhere on the
server in the job run; files are opened with O_NOFOLLOW, so a link swapped in at the
last moment is refused too), hard links (another name of a file elsewhere), anything
whose real path is outside the drop folder, folders and devices, abandoned temporary
files, and files of unknown type. A job run holds the file's name, its counts and the
per-row problems, never the file's contents.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import logging
import os
import shutil
import stat
import time
from collections import Counter
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.utils import timezone

from oms import correlation
from oms.jobs import job_run
from oms.models import JobRun
from orders.models import ImportedFile
from orders.project_files import (
    JOB,
    PLANNING_ACTOR,
    ProjectFileError,
    import_project_file,
    is_known_file_type,
)

logger = logging.getLogger("orders.import_folder")

INCOMING, PROCESSED, FAILED = "incoming", "processed", "failed"
TEMPORARY_SUFFIXES = (".part", ".tmp")
# A file changed more recently than this may still be being written.
SETTLE_SECONDS = 5
# A file under a temporary name unchanged for this long was abandoned by its writer.
TEMPORARY_ABANDONED_AFTER = datetime.timedelta(minutes=15)
# A file claimed longer ago than this by a worker that never finished is taken over.
ABANDONED_AFTER = datetime.timedelta(hours=1)
Status = ImportedFile.Status


def folders(root: Path | None = None) -> dict[str, Path]:
    root = Path(root or settings.OMS_IMPORT_DIR)
    paths = {name: root / name for name in (INCOMING, PROCESSED, FAILED)}
    for path in paths.values():
        path.mkdir(parents=True, exist_ok=True)
    return paths


def scan(root: Path | None = None) -> dict[str, int]:
    """Import every settled file waiting in incoming/, oldest name first."""
    paths = folders(root)
    outcomes: Counter[str] = Counter()
    for path in sorted(paths[INCOMING].iterdir()):
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        if not _is_settled(path, info):
            continue
        reason = refusal(path, info, paths[INCOMING])
        if reason:
            outcomes[_refuse(path, paths, reason)] += 1
        else:
            outcomes[import_dropped_file(path, paths)] += 1
    return dict(outcomes)


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(".") or path.suffix.lower() in TEMPORARY_SUFFIXES


def _is_settled(path: Path, info: os.stat_result) -> bool:
    settle = SETTLE_SECONDS
    if _is_temporary(path):
        settle = TEMPORARY_ABANDONED_AFTER.total_seconds()
    return time.time() - info.st_mtime >= settle


def refusal(path: Path, info: os.stat_result, incoming: Path) -> str:
    """Why a file in incoming/ is not imported, in a coordinator's words ('' if it is)."""
    if stat.S_ISLNK(info.st_mode):
        return "It is a link to another file, not a file; copy the file itself in."
    if not stat.S_ISREG(info.st_mode):
        return "It is not a regular file (a folder or a device); only files are imported."
    if info.st_nlink > 1:
        return "It has other names on the server (a hard link); copy the file itself in."
    if Path(os.path.realpath(path)).parent != Path(os.path.realpath(incoming)):
        return "It lies outside the drop folder; copy the file itself in."
    if _is_temporary(path):
        return (
            f"Its temporary name was left unchanged for "
            f"{TEMPORARY_ABANDONED_AFTER.total_seconds() / 60:.0f} minutes; rename it "
            f"when the copy is complete (a name without a leading dot, .part or .tmp)."
        )
    if not is_known_file_type(path):
        return "Its type is not one OMS imports; use .parquet or .csv."
    return ""


class FileRefused(Exception):
    """A file that is not read (a link, another name of a file elsewhere...): why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _refuse(path: Path, paths: dict[str, Path], reason: str) -> str:
    """Record a file that is not imported as a failed job run, and move it out of
    incoming/ without reading it."""
    with correlation.use(None), job_run(JOB, context={"file": path.name}) as counts:
        counts.detail["outcome"] = "refused: not imported"
        counts.fail(f"{path.name} was not imported. {reason}")
    logger.warning("Refused %s: %s", path.name, reason)
    _move(path, paths[FAILED])
    return "failed"


def open_dropped(path: Path) -> BinaryIO:
    """The file opened for reading without following a link, checked again through
    its open descriptor (a file swapped for a link after the scan is refused)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileRefused(refusal(path, path.lstat(), path.parent)) from exc
        raise
    file = os.fdopen(descriptor, "rb")
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
        file.close()
        raise FileRefused(refusal(path, info, path.parent))
    return file


def import_dropped_file(path: Path, paths: dict[str, Path]) -> str:
    """Import one file from incoming/ and move it; returns what happened to it:
    processed, duplicate, failed, or busy (another worker has it, or it is gone)."""
    try:
        file = open_dropped(path)
    except FileNotFoundError:
        return "busy"
    except FileRefused as refused:
        return _refuse(path, paths, refused.reason)
    with file:
        return _import_open_file(path, file, paths)


def _import_open_file(path: Path, file: BinaryIO, paths: dict[str, Path]) -> str:
    digest = file_sha256(file)
    file.seek(0)
    record, created = ImportedFile.objects.get_or_create(
        sha256=digest, defaults={"name": path.name}
    )
    if not created and record.status == Status.PROCESSED:
        _record_duplicate(path, record)
        _move(path, paths[PROCESSED])
        return "duplicate"
    if not created and not _claim(record, path.name):
        return "busy"

    with correlation.use(None) as correlation_id:
        try:
            with job_run(JOB, context={"file": path.name, "sha256": digest}) as counts:
                record.job_run = JobRun.objects.filter(
                    name=JOB, correlation_id=correlation_id
                ).first()
                record.save(update_fields=["job_run", "updated_at"])
                try:
                    import_project_file(path, file=file, actor=PLANNING_ACTOR, counts=counts)
                except ProjectFileError as exc:
                    # The reason is the run's error, without a traceback.
                    counts.fail(f"{exc} {_what_was_imported(counts)}")
        except Exception:
            logger.exception("Import of %s failed", path.name)
            counts = None
        if counts is None or counts.error:
            record.status = Status.FAILED
            record.save(update_fields=["status", "updated_at"])
            _move(path, paths[FAILED])
            return "failed"
    record.status = Status.PROCESSED
    record.save(update_fields=["status", "updated_at"])
    _move(path, paths[PROCESSED])
    return "processed"


def _what_was_imported(counts) -> str:
    done = counts.created + counts.modified + counts.skipped + counts.failed
    if not done:
        return "The file was not imported."
    return f"The import stopped there: the {done:,} rows before it were imported (see counts)."


def _claim(record: ImportedFile, name: str) -> bool:
    """Take a file that failed before, or whose worker gave up, for this worker."""
    abandoned = timezone.now() - ABANDONED_AFTER
    if record.status == Status.PROCESSING and record.updated_at > abandoned:
        return False
    taken = ImportedFile.objects.filter(
        pk=record.pk, status=record.status, updated_at=record.updated_at
    ).update(status=Status.PROCESSING, name=name, updated_at=timezone.now())
    if taken:
        record.refresh_from_db()
    return bool(taken)


def _record_duplicate(path: Path, record: ImportedFile) -> None:
    context = {
        "file": path.name,
        "sha256": record.sha256,
        "duplicate_of": record.name,
        "imported_by_job_run": record.job_run_id,
    }
    with job_run(JOB, context=context) as counts:
        counts.detail["outcome"] = "duplicate: already imported, not imported again"


def file_sha256(file: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := file.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def _move(path: Path, folder: Path) -> Path:
    """Move the file into the folder without replacing a file of the same name there."""
    target = folder / path.name
    if target.exists():
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
        for n in range(1, 10_000):
            target = folder / f"{path.stem}.{stamp}-{n}{path.suffix}"
            if not target.exists():
                break
    try:
        return Path(shutil.move(path, target))
    except FileNotFoundError:
        logger.warning("%s was gone before it could be moved to %s", path.name, folder.name)
        return target
