import pytest
from django.core import mail

from oms.jobs import job_run
from oms.models import JobRun

pytestmark = pytest.mark.django_db


def test_a_job_run_records_its_counts_and_mails_start_and_end(settings):
    settings.OMS_OPS_EMAILS = ["ops@example.com"]
    with job_run("import_projects", context={"file": "p.csv"}) as counts:
        counts.add("created", 3)
        counts.add("failed")
    run = JobRun.objects.get()
    assert (run.status, run.created, run.failed, run.detail) == (
        "succeeded",
        3,
        1,
        {"file": "p.csv"},
    )
    assert [m.subject for m in mail.outbox] == [
        f"[OMS] import_projects #{run.pk} started",
        f"[OMS] import_projects #{run.pk} finished",
    ]
    assert "Created 3, modified 0, skipped 0, failed 1" in mail.outbox[1].body


def test_a_failed_job_is_recorded_and_mailed_with_its_context(settings):
    settings.OMS_OPS_EMAILS = ["ops@example.com"]
    settings.OMS_OPS_EMAIL_MODE = "failures"
    with pytest.raises(RuntimeError), job_run("ingest_events", context={"file": "e.jsonl"}) as c:
        c.add("created", 2)
        raise RuntimeError("disk full")
    run = JobRun.objects.get()
    assert run.status == "failed" and run.finished_at is not None
    assert "RuntimeError: disk full" in run.error
    (message,) = mail.outbox
    assert message.subject == f"[OMS] ingest_events #{run.pk} failed"
    assert "disk full" in message.body and "e.jsonl" in message.body
    assert "Created 2" in message.body and "Started:" in message.body


def test_no_mail_without_recipients(settings):
    settings.OMS_OPS_EMAILS = []
    with job_run("quiet"):
        pass
    assert mail.outbox == []
