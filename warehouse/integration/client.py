"""The HTTP JSON client of warehouse systems: one call, its outcome classified.

A release request is `POST <warehouse URL>/releases` with the release as JSON, the
release id as `Idempotency-Key` and the correlation id as `X-Correlation-ID`. The
call never raises for what the network or the warehouse did: it returns a CallResult
that says whether a retry could help (connection errors, timeouts, 429, 502, 503, 504)
or not (any other answer). Retrying is the caller's business (warehouse.dispatch).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests
from django.conf import settings

from oms import correlation
from warehouse.integration.models import Release
from warehouse.ledger.models import Allocation, Warehouse

TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = "OMS warehouse client"

# How `CallResult.error` begins for a call that got no answer; an answer that is not 2xx
# begins with its status ("503 Service Unavailable: <body>"). warehouse.delivery reads
# them back into words for coordinators.
TIMED_OUT = "timed out"
CONNECTION_FAILED = "connection failed"
REQUEST_FAILED = "request failed"
NO_URL = "No warehouse URL: set OMS_WAREHOUSE_URL."
CIRCUIT_OPEN = "Circuit of warehouse {code} is open: not called."

_local = threading.local()


def _session() -> requests.Session:
    """One session (kept-alive connections) per thread."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


@dataclass(frozen=True)
class CallResult:
    method: str
    url: str
    summary: str
    status_code: int | None
    latency_ms: int
    error: str = ""
    transient: bool = False
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def base_url(warehouse: Warehouse) -> str:
    return (warehouse.api_url or settings.OMS_WAREHOUSE_URL).rstrip("/")


def release_lines(release: Release) -> list[dict]:
    """What the release asks for (stored when it was made)."""
    if release.lines:
        return release.lines
    # A release made before lines were stored: its allocations at the warehouse.
    allocations = (
        Allocation.objects.filter(
            order_line__order_id=release.order_id,
            stock_level__warehouse_id=release.warehouse_id,
            status=Allocation.Status.ACTIVE,
        )
        .select_related("order_line__item")
        .order_by("order_line__item__code")
    )
    return [{"item": a.order_line.item.code, "quantity": a.quantity} for a in allocations]


def release_body(release: Release) -> dict:
    order = release.order
    return {
        "release_id": str(release.release_id),
        "order": order.number,
        "warehouse": release.warehouse.code,
        "project": order.project.external_id,
        "site_code": order.project.site_code,
        "need_by": order.need_by.isoformat(),
        "priority": order.national_priority,
        "lines": release_lines(release),
    }


def post_release(release: Release) -> CallResult:
    """Send one release request; the answer or failure classified."""
    body = release_body(release)
    url = f"{base_url(release.warehouse)}/releases"
    summary = f"release {body['order']}: {len(body['lines'])} lines to {body['warehouse']}"
    if not base_url(release.warehouse):
        return CallResult("POST", "", summary, None, 0, error=NO_URL)
    headers = {
        "Idempotency-Key": body["release_id"],
        correlation.HEADER: correlation.get() or correlation.new_id(),
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
    }
    if settings.OMS_WAREHOUSE_TOKEN:
        headers["Authorization"] = f"Bearer {settings.OMS_WAREHOUSE_TOKEN}"
    timeout = (
        settings.OMS_WAREHOUSE_CONNECT_TIMEOUT_SECONDS,
        settings.OMS_WAREHOUSE_TIMEOUT_SECONDS,
    )
    started = time.monotonic()

    def result(status=None, error="", transient=False, retry_after=None) -> CallResult:
        latency = round((time.monotonic() - started) * 1000)
        return CallResult(
            "POST", url, summary, status, latency, error[:500], transient, retry_after
        )

    try:
        response = _session().post(
            url, json=body, headers=headers, timeout=timeout, allow_redirects=False
        )
    except requests.Timeout as exc:
        return result(error=f"{TIMED_OUT}: {exc}", transient=True)
    except requests.ConnectionError as exc:
        return result(error=f"{CONNECTION_FAILED}: {exc}", transient=True)
    except requests.RequestException as exc:
        return result(error=f"{REQUEST_FAILED}: {exc}")
    status = response.status_code
    if 200 <= status < 300:
        return result(status)
    return result(
        status,
        error=f"{status} {response.reason}: {response.text[:300]}".strip(),
        transient=status in TRANSIENT_STATUSES,
        retry_after=_retry_after(response),
    )


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None  # absent, or an HTTP date: the backoff decides
