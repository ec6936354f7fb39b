"""/healthz (the process answers) and /readyz (database, migrations, broker, outbox
relay), for load balancers and container probes: JSON with a status per check, 503
when not ready, answered before sign-in, throttling, the HTTPS redirect and the host
check."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from oms import health, outbox
from oms.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def probe():
    return Client(raise_request_exception=False)


@pytest.fixture(autouse=True)
def _look_at_migrations_again(monkeypatch):
    monkeypatch.setattr(health, "_all_applied", False)


def test_healthz_answers_without_touching_anything(probe, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = probe.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"process": {"status": "ok"}}}
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_ready_with_a_status_per_check(probe):
    response = probe.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "migrations": "ok",
        "broker": "skipped",  # tests run tasks in-process, as without a broker
        "outbox": "ok",
    }
    assert body["checks"]["outbox"]["lag_seconds"] == 0


def test_probes_need_no_sign_in_https_or_listed_host(probe, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["oms.example.com"]

    for path in ("/healthz", "/readyz"):
        # a container probe calls the pod's address over plain HTTP
        response = probe.get(path, headers={"host": "10.1.2.3:8000"})
        assert response.status_code == 200, (path, response.status_code)
    assert probe.get("/orders/", headers={"host": "10.1.2.3:8000"}).status_code == 400
    assert probe.head("/readyz").status_code == 200
    assert probe.post("/readyz").status_code == 405


def test_readyz_is_not_ready_while_the_outbox_relay_is_behind(probe, settings, acting_system):
    settings.OMS_READY_MAX_RELAY_LAG_SECONDS = 60
    from django.db import transaction

    with transaction.atomic():
        event = outbox.publish(
            event_type="thing.made", aggregate_type="thing", aggregate_id=1, payload={}
        )
    OutboxEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=90)
    )

    response = probe.get("/readyz")

    assert response.status_code == 503
    check = response.json()["checks"]["outbox"]
    assert check["status"] == "failing" and check["lag_seconds"] >= 90
    OutboxEvent.objects.filter(pk=event.pk).update(delivered_at=timezone.now())
    assert probe.get("/readyz").status_code == 200


def test_readyz_is_not_ready_while_a_migration_is_not_applied(probe):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations)"
        )

    response = probe.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {
        "status": "failing",
        "error": "1 migrations not applied",
    }


@pytest.mark.postgres
def test_readyz_is_not_ready_while_the_database_cannot_be_reached(probe, cut_database_connection):
    cut_database_connection.cut()

    ready = probe.get("/readyz")
    live = probe.get("/healthz")

    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"] == {"status": "failing", "error": "the database cannot be reached"}
    assert checks["migrations"]["status"] == checks["outbox"]["status"] == "skipped"
    assert live.status_code == 200  # the process is alive: nothing to restart
    cut_database_connection.restore()
    assert probe.get("/readyz").status_code == 200


def test_readyz_is_not_ready_while_the_broker_cannot_be_reached(probe, private_broker):
    assert probe.get("/readyz").json()["checks"]["broker"] == {"status": "ok"}

    private_broker.stop()
    response = probe.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {
        "status": "failing",
        "error": "the broker cannot be reached",
    }
    private_broker.start()
    assert probe.get("/readyz").status_code == 200


@pytest.fixture
def embedded_broker_in_use(settings, tmp_path):
    """As without a broker URL: tasks go to the embedded broker's folder."""
    from oms import celery_app

    settings.OMS_EMBEDDED_BROKER = True
    settings.OMS_BROKER_DIR = tmp_path
    celery_app.conf.task_always_eager = False
    yield tmp_path
    celery_app.conf.task_always_eager = True


def test_readyz_reports_the_tasks_waiting_in_the_embedded_broker(probe, embedded_broker_in_use):
    from kombu import Connection

    from oms import embedded_broker

    options = embedded_broker.transport_options(embedded_broker_in_use)
    with Connection(
        "filesystem://localhost/", transport=embedded_broker.Transport, transport_options=options
    ) as connection:
        connection.SimpleQueue("celery").put({"task": "waits for a worker"})

    response = probe.get("/readyz")

    assert response.status_code == 200
    check = response.json()["checks"]["broker"]
    assert check["status"] == "ok" and check["kind"] == "embedded"
    assert check["tasks_waiting"] == 1 and check["oldest_waiting_seconds"] >= 0


def test_readyz_is_not_ready_when_the_embedded_broker_folder_cannot_be_read(
    probe, embedded_broker_in_use, settings
):
    settings.OMS_BROKER_DIR = embedded_broker_in_use / "gone"

    response = probe.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {
        "status": "failing",
        "error": "the embedded broker's folder cannot be read",
    }
