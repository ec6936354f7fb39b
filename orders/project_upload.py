"""Planning files uploaded in the back office: the same import as the drop folder
(orders.project_files.import_project_file), run in the background as a job run.

`receive_upload` checks the file (a name, a known type whose first bytes look like it,
not empty, not over OMS_IMPORT_MAX_BYTES), saves it under the drop folder's `uploads/`
as `<job run id><suffix>` (never under the name the browser sent) and records a queued
job run; `import_upload` (the Celery task's service) opens it as the drop folder opens
its files (no links, no other names), imports it as the person who uploaded it, and
writes the counts to the job run batch by batch so that the page can show progress.
The saved file is deleted once imported: the job run keeps its name, checksum, counts
and the rows with problems, never its contents. A dry run (check only) reads and checks
every row and changes nothing. An upload whose task never arrived (the broker was down)
is sent again by `send_waiting` (beat, every minute).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import shutil
import unicodedata
from functools import partial
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from oms import broker, correlation, untrusted
from oms.actors import Actor
from oms.errors import DomainError
from oms.jobs import JobCounts, job_run
from oms.models import JobRun
from orders.import_folder import FileRefused, open_dropped
from orders.project_files import JOB, ProjectFileError, import_project_file, is_known_file_type
from orders.project_import import INVALID_KEPT

logger = logging.getLogger("orders.project_upload")

UPLOADS = "uploads"
PARQUET_MAGIC = b"PAR1"
NAME_MAX = 200
# What a job run's detail says of an upload while it waits and while it is read.
QUEUED, READING = "queued", "reading"
# An upload queued this long ago whose import has not started is sent again.
WAITING_AFTER = datetime.timedelta(minutes=1)
# The task that imports an upload (orders.tasks).
IMPORT_TASK = "orders.tasks.import_uploaded_projects"


class UploadRefused(DomainError):
    """The uploaded file is not imported; the message says why, in a coordinator's words."""

    code = "upload_refused"


def uploads_folder() -> Path:
    folder = Path(settings.OMS_IMPORT_DIR) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def name_problem(name: str) -> str:
    """Why a file name is refused ('' when it is fine)."""
    if not name or not name.strip():
        return "The file has no name."
    if len(name) > NAME_MAX:
        return f"The file name is longer than {NAME_MAX} characters; rename the file."
    if untrusted.text_problem(name) or any(_odd(ch) for ch in name):
        return "The file name holds characters that are not allowed; rename the file."
    if "/" in name or "\\" in name or name.startswith("."):
        return "The file name is not a plain file name; rename the file."
    if not is_known_file_type(Path(name)):
        return f"{name} is not a .parquet or .csv file, the only files OMS imports."
    return ""


def size_text(size: int) -> str:
    """A size as a coordinator reads it: 128 MiB, 900 KiB, 20 bytes."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:,.0f} {unit}"
    return f"{size:,} bytes"


def too_large_text(name: str) -> str:
    return (
        f"{name} is larger than {size_text(settings.OMS_IMPORT_MAX_BYTES)}, the most an "
        "import takes; split it into smaller files."
    )


def _odd(character: str) -> bool:
    """Control and format characters (NUL, line breaks, right-to-left overrides that
    make "gpj.csv" read as "vsc.jpg"), unassigned and private ones."""
    return unicodedata.category(character)[0] in "CZ" and character != " "


def content_problem(name: str, file: BinaryIO) -> str:
    """Why the file's first bytes do not look like its type ('' when they do)."""
    file.seek(0)
    head = file.read(4096)
    file.seek(0)
    if Path(name).suffix.lower() == ".parquet":
        if not head.startswith(PARQUET_MAGIC):
            return f"{name} is not a Parquet file (its content is something else)."
        return ""
    if b"\x00" in head:
        return f"{name} is not a CSV file (it holds binary data)."
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a character cut at the end of the sample is fine
            return f"{name} is not a CSV file in UTF-8 text."
    return ""


def receive_upload(
    *, name: str, size: int, file: BinaryIO, actor: Actor, dry_run: bool = False
) -> JobRun:
    """Check an uploaded planning file, keep it and queue its import (a dry run only
    checks its rows). Raises UploadRefused (nothing kept, no job run) or
    ActionForbidden."""
    for perm in ("orders.add_project", "orders.change_project"):
        actor.require(perm, "import projects")
    if problem := name_problem(name):
        raise UploadRefused(problem)
    limit = settings.OMS_IMPORT_MAX_BYTES
    if size > limit:
        raise UploadRefused(too_large_text(name))
    if size == 0:
        raise UploadRefused(f"{name} is empty.")
    if problem := content_problem(name, file):
        raise UploadRefused(problem)
    digest = hashlib.sha256()
    file.seek(0)
    while chunk := file.read(1024 * 1024):
        digest.update(chunk)
    detail = {
        "file": name,
        "sha256": digest.hexdigest(),
        "uploaded_by": actor.name,
        "phase": QUEUED,
    }
    if dry_run:
        detail["dry_run"] = True
    run = JobRun.objects.create(name=JOB, detail=detail, correlation_id=correlation.get())
    target = _saved_path(run)
    file.seek(0)
    # Created here, never over an existing file or through a link.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with os.fdopen(os.open(target, flags, 0o600), "wb") as saved:
        shutil.copyfileobj(file, saved, 1024 * 1024)
    # If the broker cannot take it now, the upload waits queued for send_waiting().
    broker.send_after_commit(IMPORT_TASK, run.pk)
    return run


def waiting():
    """Uploads queued more than WAITING_AFTER ago: their task never arrived (the broker
    was down, or lost it)."""
    return JobRun.objects.filter(
        name=JOB,
        status=JobRun.Status.RUNNING,
        detail__phase=QUEUED,
        started_at__lt=timezone.now() - WAITING_AFTER,
    )


def send_waiting() -> int:
    """Send again the uploads whose import never started (beat, every minute). Safe:
    an upload is claimed once."""
    pks = list(waiting().order_by("pk").values_list("pk", flat=True))
    for pk in pks:
        broker.send(IMPORT_TASK, pk)
    if pks:
        logger.warning("Sending %d uploaded planning files that waited to be imported", len(pks))
    return len(pks)


def _saved_path(run: JobRun) -> Path:
    return uploads_folder() / f"{run.pk}{Path(run.detail['file']).suffix.lower()}"


def import_upload(*, job_run_id: int) -> None:
    """Import a queued upload once (a second call, or one for another kind of run,
    does nothing)."""
    claimed = JobRun.objects.filter(
        pk=job_run_id, name=JOB, status=JobRun.Status.RUNNING, detail__phase=QUEUED
    ).first()
    if claimed is None:
        return
    detail = {**claimed.detail, "phase": READING}
    if not JobRun.objects.filter(pk=claimed.pk, detail__phase=QUEUED).update(detail=detail):
        return  # another worker took it
    claimed.detail = detail
    path = _saved_path(claimed)
    try:
        with correlation.use(claimed.correlation_id or None):
            _import(claimed, path)
    finally:
        path.unlink(missing_ok=True)


def _import(run: JobRun, path: Path) -> None:
    try:
        with job_run(JOB, run=run) as counts:
            try:
                actor = _uploader(run)
                with open_dropped(path) as file:
                    import_project_file(
                        Path(run.detail["file"]),
                        file=file,
                        actor=actor,
                        counts=counts,
                        invalid_in_detail=INVALID_KEPT,
                        dry_run=run.dry_run,
                        on_start=partial(_started, counts),
                        on_progress=partial(_progressed, counts),
                    )
            except (DomainError, FileRefused, OSError) as exc:
                # A refusal is the run's error, in words, without a traceback.
                counts.fail(_refusal_text(exc, counts))
            for key in ("phase", "rows_read"):
                counts.detail.pop(key, None)
    except Exception:
        logger.exception("Import of uploaded file %s failed", run.detail.get("file"))


def _uploader(run: JobRun) -> Actor:
    user = get_user_model().objects.filter(username=run.detail.get("uploaded_by")).first()
    if user is None:
        raise UploadRefused("The person who uploaded the file is no longer a user.")
    return Actor.person(user)


def _refusal_text(exc: Exception, counts: JobCounts) -> str:
    if isinstance(exc, FileRefused):
        return f"The uploaded file was not read. {exc.reason}"
    if isinstance(exc, OSError):
        return "The uploaded file could not be read; upload it again."
    done = counts.created + counts.modified + counts.skipped + counts.failed
    if isinstance(exc, ProjectFileError) and done:
        return f"{exc} The import stopped there: the {done:,} rows before it were imported."
    if isinstance(exc, ProjectFileError):
        return f"{exc} The file was not imported."
    return str(exc)


def _started(counts: JobCounts, total: int | None) -> None:
    counts.detail["total_rows"] = total
    counts.detail["rows_read"] = 0
    _save_progress(counts)


def _progressed(counts: JobCounts, rows: int) -> None:
    """After each batch (each is its own transaction, committed by now)."""
    counts.detail["rows_read"] = counts.detail.get("rows_read", 0) + rows
    _save_progress(counts)


def _save_progress(counts: JobCounts) -> None:
    JobRun.objects.filter(pk=counts.job_run_id).update(
        created=counts.created,
        modified=counts.modified,
        skipped=counts.skipped,
        failed=counts.failed,
        detail=counts.detail,
    )
