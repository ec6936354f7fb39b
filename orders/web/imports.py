"""Importing planning files in the back office: the upload form, and the page that
follows the import (a status fragment polled every second until it is done)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from oms.actors import Actor
from oms.errors import DomainError
from oms.job_details import job_report
from oms.models import JobRun
from oms.pages import render_page
from orders.forms import ProjectUploadForm
from orders.project_files import JOB
from orders.project_upload import QUEUED, receive_upload, size_text, too_large_text

# What the page needs: the import service creates and changes projects.
IMPORT_PERMISSIONS = ("orders.add_project", "orders.change_project")


class CappedUploadHandler(FileUploadHandler):
    """Stops reading an uploaded file once it passes OMS_IMPORT_MAX_BYTES (the rest of
    the request is read and thrown away), and remembers that it did."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.OMS_IMPORT_MAX_BYTES
        self.received = 0
        self.too_large = ""

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = self.file_name or "The file"
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def _require_import(request) -> None:
    if not all(request.user.has_perm(p) for p in IMPORT_PERMISSIONS):
        raise PermissionDenied


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def import_projects(request):
    """The upload form. The size cap is enforced while the file streams in, so the
    handler goes first; the CSRF check reads the form after it (hence exempt here and
    protected below)."""
    _require_import(request)
    handler = CappedUploadHandler(request)
    request.upload_handlers.insert(0, handler)
    return _import_projects(request, handler)


@csrf_protect
def _import_projects(request, handler: CappedUploadHandler):
    if request.method != "POST":
        return render(request, "orders/import_projects.html", _form_context(ProjectUploadForm()))
    form = ProjectUploadForm(request.POST, request.FILES)
    if handler.too_large:
        form.add_error("file", too_large_text(handler.too_large))
    elif form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            run = receive_upload(
                name=uploaded.name,
                size=uploaded.size,
                file=uploaded.file,
                actor=Actor.person(request.user),
                dry_run=form.cleaned_data["dry_run"],
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("orders:import_run", pk=run.pk)
    return render(request, "orders/import_projects.html", _form_context(form), status=400)


def _form_context(form) -> dict:
    return {"form": form, "max_size": size_text(settings.OMS_IMPORT_MAX_BYTES)}


def _upload_run(request, pk) -> JobRun:
    run = get_object_or_404(JobRun, pk=pk, name=JOB)
    if not isinstance(run.detail, dict) or "uploaded_by" not in run.detail:
        raise PermissionDenied  # not an upload: its page is the job run's
    return run


@login_required
@require_GET
def import_run(request, pk):
    """One upload's import: its progress until done, then its counts and rows with
    problems. An htmx request gets the status fragment alone."""
    _require_import(request)
    run = _upload_run(request, pk)
    context = _status_context(run)
    return render_page(
        request, "orders/import_run.html", "orders/partials/import_status.html", context
    )


def _status_context(run: JobRun) -> dict:
    detail = run.detail
    done = run.status != JobRun.Status.RUNNING
    if done:
        phase = "done"
    elif detail.get("phase") == QUEUED:
        phase = "queued"
    else:
        phase = "reading"
    total, read = detail.get("total_rows"), detail.get("rows_read")
    rows = detail.get("rows")
    return {
        "run": run,
        "file": detail.get("file", ""),
        "phase": phase,
        "done": done,
        "total": total if isinstance(total, int) else None,
        "read": read if isinstance(read, int) else 0,
        "rows": rows if isinstance(rows, int) else None,
        "imported": run.created + run.modified + run.skipped,
        "report": job_report(run) if done else None,
        # A refusal is one paragraph; a failure's traceback stays on the job run's page.
        "error": run.error.split("\n\n")[0],
    }
