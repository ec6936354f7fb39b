"""Celery tasks of the orders app: load by id, call a service, nothing else."""

from celery import shared_task

from oms.jobs import job_run
from orders import import_folder, project_upload
from orders.ingestion import receiving
from orders.ingestion.batch import process_batch
from orders.models import DesignEvent

# Lost connections, deadlocks and serialization failures are retried with backoff
# (oms.retry.RetryOnOutage); a business error is recorded on the event (dead letter) and
# never retried. Beat's frequent sweeps are not retried: their next run is the retry.


@shared_task
def process_design_events(event_pks: list[int], source: str) -> dict:
    """One batch of received design events, recorded as a job run. A retry after a
    transient error skips the events already processed."""
    with job_run("design_events", context={"source": source, "events": len(event_pks)}) as c:
        process_batch(DesignEvent.objects.filter(pk__in=event_pks), c)
    return {"created": c.created, "modified": c.modified, "skipped": c.skipped, "failed": c.failed}


@shared_task(max_retries=0)
def process_waiting_design_events() -> int:
    """Send to be processed the design events whose task never arrived (beat, every
    OMS_DESIGN_EVENT_SWEEP_SECONDS)."""
    return receiving.send_waiting()


@shared_task(max_retries=0)
def scan_import_dir() -> dict[str, int]:
    """Import the planning files waiting in the drop folder (beat, every
    OMS_IMPORT_SCAN_SECONDS). Safe to run twice at once: each file is claimed by its
    checksum."""
    return import_folder.scan()


@shared_task(max_retries=0)
def import_uploaded_projects(job_run_id: int) -> None:
    """Import a planning file uploaded in the back office (its queued job run). Safe to
    run twice: the run is claimed once."""
    project_upload.import_upload(job_run_id=job_run_id)


@shared_task(max_retries=0)
def send_waiting_uploads() -> int:
    """Send again the uploaded planning files whose import never started (beat, every
    minute)."""
    return project_upload.send_waiting()
