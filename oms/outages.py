"""Outages of the services OMS depends on: what this process saw of them, and how a
request is answered while the database cannot be reached.

Redis (the cache and the broker) may go away without failing anything: the cache acts
as an empty one (oms.cache) and work waiting for the broker stays in the database
until a sweep or the relay sends it (oms.broker). The database is another matter: a
request answers 503 with Retry-After (OMS_OUTAGE_RETRY_SECONDS), a problem details
object under /api/ and a plain page elsewhere, never a 500.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError

logger = logging.getLogger("oms.outages")

# An outage that goes on is logged again this often (no one may have seen its start).
REMIND_SECONDS = 60


class Outage:
    """Whether a service is down, as this process last saw it, and since when. Logs the
    start and the end of each outage once, and a reminder every REMIND_SECONDS while it
    goes on."""

    def __init__(self, name: str, effect: str):
        self.name = name
        self.effect = effect
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.logged_at = 0.0

    def skip(self) -> bool:
        """True while a recent failure says not to try yet."""
        return self.down_since is not None and time.monotonic() < self.retry_at

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            starts = self.down_since is None
            if self.down_since is None:
                self.down_since = now
            self.retry_at = now + settings.OMS_REDIS_RETRY_SECONDS
            remind = not starts and now - self.logged_at >= REMIND_SECONDS
            if starts or remind:
                self.logged_at = now
            lasted = now - self.down_since
        if starts:
            logger.warning("%s cannot be reached (%s); %s", self.name, error, self.effect)
        elif remind:
            logger.warning(
                "%s still cannot be reached after %.0f s (%s)",
                self.name,
                lasted,
                error,
            )

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        with self._lock:
            since, self.down_since = self.down_since, None
        if since is not None:
            logger.warning(
                "%s answers again after %.1f s of outage", self.name, time.monotonic() - since
            )


# --- The database -----------------------------------------------------------------------

database = Outage(
    "The database",
    "requests answer 503 with Retry-After until it is back.",
)


def database_unreachable(error: BaseException) -> bool:
    """Whether an error says the database cannot be reached (refused, lost or closed
    connection, server shutting down or starting up), rather than that a query failed.
    SQLSTATE class 08 is a connection exception, 57P a server that shuts down or does
    not take connections yet; a psycopg error without SQLSTATE is the client's own
    (connection failed, connection closed)."""
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith(("08", "57P"))
    return type(cause).__module__.split(".")[0] == "psycopg"


UNAVAILABLE_CODE = "database_unavailable"


def unavailable_headers() -> dict[str, str]:
    return {"Retry-After": str(settings.OMS_OUTAGE_RETRY_SECONDS), "Cache-Control": "no-store"}


def unavailable_detail() -> str:
    return (
        f"The database cannot be reached. Try again in {settings.OMS_OUTAGE_RETRY_SECONDS} s "
        "(a POST with the same Idempotency-Key)."
    )
