"""Job runs: every import file and ingestion batch is recorded with its counts, and the
operations team is mailed at start, end and on failure (OMS_OPS_EMAILS)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from oms import correlation
from oms.job_details import counts_text
from oms.models import JobRun

logger = logging.getLogger("oms.jobs")


@dataclass
class JobCounts:
    created: int = 0
    modified: int = 0
    skipped: int = 0
    failed: int = 0
    detail: dict = field(default_factory=dict)
    job_run_id: int | None = None
    error: str = ""

    def add(self, outcome: str, n: int = 1) -> None:
        setattr(self, outcome, getattr(self, outcome) + n)

    def fail(self, error: str) -> None:
        """Mark the run failed when it ends, with this error, without raising (a check
        that found problems, rather than a job that broke)."""
        self.error = error


@contextmanager
def job_run(
    name: str, *, context: dict | None = None, run: JobRun | None = None
) -> Iterator[JobCounts]:
    """Record one run of a job. The block updates the yielded counts; an exception
    marks the run failed (with the error and context), mails it, and is re-raised, and
    so does counts.fail(), without the exception. A run recorded beforehand (queued
    work) is given as `run`: its detail is the context."""
    if run is None:
        run = JobRun.objects.create(
            name=name, detail=dict(context or {}), correlation_id=correlation.get()
        )
    else:
        context = {**(run.detail if isinstance(run.detail, dict) else {}), **(context or {})}
    counts = JobCounts(detail=dict(context or {}), job_run_id=run.pk)
    _mail(run, "started", failure=False)
    try:
        yield counts
    except Exception as exc:
        _finish(
            run,
            counts,
            JobRun.Status.FAILED,
            error="".join(traceback.format_exception_only(type(exc), exc)).strip()
            + "\n\n"
            + traceback.format_exc(limit=8),
        )
        _mail(run, "failed", failure=True)
        raise
    if counts.error:
        _finish(run, counts, JobRun.Status.FAILED, error=counts.error)
        _mail(run, "failed", failure=True)
        return
    _finish(run, counts, JobRun.Status.SUCCEEDED)
    _mail(run, "finished", failure=False)


def _finish(run: JobRun, counts: JobCounts, status: str, error: str = "") -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.created, run.modified = counts.created, counts.modified
    run.skipped, run.failed = counts.skipped, counts.failed
    run.detail = counts.detail
    run.error = error
    run.save()


def _mail(run: JobRun, what: str, *, failure: bool) -> None:
    recipients = settings.OMS_OPS_EMAILS
    if not recipients or (settings.OMS_OPS_EMAIL_MODE == "failures" and not failure):
        return
    subject = f"[OMS] {run.name} #{run.pk} {what}"
    lines = [
        f"Job: {run.name} #{run.pk}",
        f"Status: {run.status}",
        f"Started: {run.started_at.isoformat()}",
    ]
    if run.finished_at:
        lines.append(f"Finished: {run.finished_at.isoformat()}")
        counts = counts_text(run)
        lines.append(counts[:1].upper() + counts[1:])
    if run.detail:
        lines.append(f"Context: {run.detail}")
    if run.correlation_id:
        lines.append(f"Correlation id: {run.correlation_id}")
    if run.error:
        lines += ["", "Error:", run.error]
    try:
        send_mail(subject, "\n".join(lines), None, recipients)
    except OSError:
        logger.exception("Could not mail %s", subject)
