"""The drop folder for planning files (OMS_IMPORT_DIR).

Files put in `incoming/` are imported once each, by content: a file whose SHA-256 was
imported before is moved to `processed/` as a duplicate without importing it again.
An imported file goes to `processed/` (rows with problems are reported in its job run,
they do not fail the file); a file that cannot be read or whose import raised goes to
`failed/` and may be dropped in again. Each file's import is a job run.

Writers should copy a file in under a temporary name (a dot first, or ending in .part
or .tmp) and rename it when complete; files changed in the last few seconds are left
for the next scan either way.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import shutil
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from oms import correlation
from oms.jobs import job_run
from oms.models import JobRun
from orders.models import ImportedFile
from orders.project_files import JOB, PLANNING_ACTOR, import_project_file

logger = logging.getLogger("orders.import_folder")

INCOMING, PROCESSED, FAILED = "incoming", "processed", "failed"
TEMPORARY_SUFFIXES = (".part", ".tmp")
# A file changed more recently than this may still be being written.
SETTLE_SECONDS = 5
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
        if _is_ready(path):
            outcomes[import_dropped_file(path, paths)] += 1
    return dict(outcomes)


def _is_ready(path: Path) -> bool:
    if path.name.startswith(".") or path.suffix.lower() in TEMPORARY_SUFFIXES:
        return False
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False
    return path.is_file() and time.time() - stat.st_mtime >= SETTLE_SECONDS


def import_dropped_file(path: Path, paths: dict[str, Path]) -> str:
    """Import one file from incoming/ and move it; returns what happened to it:
    processed, duplicate, failed, or busy (another worker has it, or it is gone)."""
    try:
        digest = file_sha256(path)
    except FileNotFoundError:
        return "busy"
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
                import_project_file(path, actor=PLANNING_ACTOR, counts=counts)
        except Exception:
            logger.exception("Import of %s failed", path.name)
            record.status = Status.FAILED
            record.save(update_fields=["status", "updated_at"])
            _move(path, paths[FAILED])
            return "failed"
    record.status = Status.PROCESSED
    record.save(update_fields=["status", "updated_at"])
    _move(path, paths[PROCESSED])
    return "processed"


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
    context = {"file": path.name, "sha256": record.sha256, "duplicate_of": record.name}
    with job_run(JOB, context=context) as counts:
        counts.detail["outcome"] = "duplicate: already imported, not imported again"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
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
