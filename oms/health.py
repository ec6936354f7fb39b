"""Health checks for load balancers and container probes.

- `/healthz` (liveness): the process answers. No dependency is checked, so a database
  or Redis outage never gets healthy processes restarted. Always 200.
- `/readyz` (readiness): this process can do its work now. The database answers, every
  migration on disk is applied, the broker answers (the embedded broker: its folder can
  be read; it reports how many tasks wait there for a worker), and the outbox relay is
  not behind by more than OMS_READY_MAX_RELAY_LAG_SECONDS (the age of the oldest event
  not yet relayed). 200 when every check passes, else 503.

Both answer JSON with a status per check: `{"status": "ok" | "unavailable", "checks":
{"database": {"status": "ok"}, ...}}`; a check is "ok", "failing" (with what fails; the
details go to the log, not to the probe) or "skipped" (with the reason). They are
answered by HealthCheckMiddleware, first in MIDDLEWARE, so that no sign-in, throttling,
HTTPS redirect or host check stands in front of a probe (a container probe calls the
pod's address, which ALLOWED_HOSTS does not list). They answer GET and HEAD, with
`Cache-Control: no-store`.

Hand-written rather than taken from a library (django-health-check) because the checks
are OMS's own (applied migrations, the relay's lag) and must not write to the database.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

from oms import broker, embedded_broker, outages
from oms.models import OutboxEvent

if TYPE_CHECKING:
    from oms.api.middleware import GetResponse

logger = logging.getLogger("oms.health")

OK, FAILING, SKIPPED = "ok", "failing", "skipped"


class HealthCheckMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        probe = PROBES.get(request.path)
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        checks = probe()
        ready = all(check["status"] != FAILING for check in checks.values())
        response = JsonResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status=200 if ready else 503,
        )
        response["Cache-Control"] = "no-store"
        return response


def live() -> dict:
    return {"process": {"status": OK}}


def ready() -> dict:
    database = check_database()
    if database["status"] != OK:
        down = {"status": SKIPPED, "reason": "the database cannot be reached"}
        return {"database": database, "migrations": down, "broker": check_broker(), "outbox": down}
    return {
        "database": database,
        "migrations": check_migrations(),
        "broker": check_broker(),
        "outbox": check_outbox(),
    }


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        outages.database.failed(error)
        return {"status": FAILING, "error": "the database cannot be reached"}
    outages.database.succeeded()
    return {"status": OK}


_all_applied = False


def check_migrations() -> dict:
    """Every migration on disk is applied. Once they are, this process does not look
    again: migrations are applied before new code starts, never undone under it."""
    global _all_applied
    if not _all_applied:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return {"status": FAILING, "error": f"{len(plan)} migrations not applied"}
        _all_applied = True
    return {"status": OK}


def check_broker() -> dict:
    if current_app.conf.task_always_eager:
        return {"status": SKIPPED, "reason": "no broker: tasks run in-process"}
    if settings.OMS_EMBEDDED_BROKER:
        return check_embedded_broker()
    if not broker.reachable():
        return {"status": FAILING, "error": "the broker cannot be reached"}
    return {"status": OK}


def check_embedded_broker() -> dict:
    """The embedded broker (no broker server): its folder can be read, with how many
    tasks wait there for a worker and for how long the oldest has waited (a number that
    only grows: no worker is running)."""
    try:
        count, oldest = embedded_broker.waiting(settings.OMS_BROKER_DIR)
    except OSError as error:
        logger.warning("The embedded broker's folder cannot be read: %s", error)
        return {"status": FAILING, "error": "the embedded broker's folder cannot be read"}
    return {
        "status": OK,
        "kind": "embedded",
        "tasks_waiting": count,
        "oldest_waiting_seconds": oldest,
    }


def check_outbox() -> dict:
    limit = settings.OMS_READY_MAX_RELAY_LAG_SECONDS
    if limit <= 0:
        return {"status": SKIPPED, "reason": "OMS_READY_MAX_RELAY_LAG_SECONDS is 0"}
    oldest = (
        OutboxEvent.objects.filter(delivered_at__isnull=True)
        .order_by("id")
        .values_list("created_at", flat=True)
        .first()
    )
    lag = (timezone.now() - oldest) if oldest else datetime.timedelta(0)
    lag_seconds = round(max(lag.total_seconds(), 0.0), 1)
    result = {"lag_seconds": lag_seconds, "max_lag_seconds": limit}
    if lag_seconds > limit:
        return {"status": FAILING, "error": "the outbox relay is behind", **result}
    return {"status": OK, **result}


PROBES = {"/healthz": live, "/readyz": ready}
