"""An uploaded planning file waits, queued, until a real Celery worker (through Redis)
picks it up and imports it."""

import io
import time

import pytest
from celery.contrib.testing.worker import start_worker

from oms import celery_app
from oms.actors import Actor
from oms.models import JobRun
from orders.models import Project
from orders.project_upload import receive_upload
from tests import factories

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_an_upload_stays_queued_until_a_worker_imports_it(settings, tmp_path, private_broker):
    settings.OMS_IMPORT_DIR = tmp_path / "import"
    factories.MarketFactory(code="NYC")
    coordinator = factories.UserFactory(role="coordinator")
    content = b"project_id,site_code,market,plan_type\nP1,S1,NYC,new_build\nP2,S2,XX,coverage\n"

    run = receive_upload(
        name="w.csv", size=len(content), file=io.BytesIO(content), actor=Actor.person(coordinator)
    )

    run.refresh_from_db()
    assert (run.status, run.detail["phase"]) == ("running", "queued")
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        deadline = time.monotonic() + 30
        while run.status == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
            run.refresh_from_db()
    assert (run.status, run.created, run.failed) == ("succeeded", 1, 1)
    assert list(Project.objects.values_list("external_id", flat=True)) == ["P1"]
    assert not list((tmp_path / "import" / "uploads").iterdir())
    assert JobRun.objects.count() == 1
