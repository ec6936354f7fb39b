"""Idempotency-Key for POST requests.

The first request with a key runs and its outcome (status, body, a few headers) is
stored; a retry with the same key and the same request gets that outcome again, with
`Idempotent-Replayed: true`. The same key with a different request is 422; the same
key while the first request still runs is 409. A key is 1 to 200 visible ASCII
characters (KEY_PATTERN, as the OpenAPI schema declares it); any other value is 400
naming the header.

A key is never left in progress by a request that ends: a final answer (2xx, and a
4xx, which the same request would get again) is stored and replayed; a server error,
an answer that cannot be rendered or stored, or any exception on the way frees the key,
so a retry runs again. Only a process killed mid-request leaves its key in progress,
and a retry takes it over after OMS_IDEMPOTENCY_ABANDONED_SECONDS.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from oms.api.authentication import caller_key
from oms.api.problems import Conflict, UnprocessableEntity, problem_response
from oms.models import IdempotencyKey

if TYPE_CHECKING:
    from rest_framework.request import Request

logger = logging.getLogger("oms.api")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("ETag", "Location")
MAX_KEY_LENGTH = 200
KEY_PATTERN = rf"^[\x21-\x7E]{{1,{MAX_KEY_LENGTH}}}$"
_KEY = re.compile(KEY_PATTERN)


class Replay(Exception):
    """Raised to answer a retry with the stored outcome."""

    def __init__(self, record: IdempotencyKey) -> None:
        self.record = record

    def response(self) -> Response:
        stored = dict(self.record.response_headers)
        content_type = stored.pop("Content-Type", None)
        return Response(
            self.record.response_body,
            status=self.record.response_status,
            headers={**stored, REPLAYED_HEADER: "true"},
            content_type=content_type,
        )


def _fingerprint(request: HttpRequest) -> str:
    assert request.method is not None, "a request being handled has its method"
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def begin(request: Request) -> IdempotencyKey | None:
    """Claim the request's key, or raise Replay / Conflict / UnprocessableEntity."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise ValidationError(
            {HEADER: [f"Give 1 to {MAX_KEY_LENGTH} visible ASCII characters (no spaces)."]},
            code="invalid_idempotency_key",
        )
    owner, fingerprint = caller_key(request), _fingerprint(request)
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(owner=owner, key=key, fingerprint=fingerprint)
    except IntegrityError:
        pass
    record = IdempotencyKey.objects.get(owner=owner, key=key)
    if record.fingerprint != fingerprint:
        raise UnprocessableEntity(
            f"This {HEADER} was used with a different request.", code="idempotency_key_reused"
        )
    if record.in_progress:
        if timezone.now() - record.created_at < _abandoned_after():
            raise Conflict(
                f"A request with this {HEADER} is still being processed; retry later.",
                code="idempotency_key_in_use",
            )
        # The first request died without an outcome: this one takes over.
        claimed = IdempotencyKey.objects.filter(
            pk=record.pk, in_progress=True, created_at=record.created_at
        ).update(created_at=timezone.now())
        if not claimed:
            raise Conflict(f"Another retry took over this {HEADER}.", code="idempotency_key_in_use")
        record.refresh_from_db()
        return record
    raise Replay(record)


def finish(record: IdempotencyKey, response: Response) -> Response | HttpResponse:
    """Store a final outcome, or free the key so that a retry runs again. Returns the
    response to send: rendered here, so that an answer that cannot be rendered frees
    the key too (and becomes a 500 problem)."""
    if response.status_code >= 500:
        release(record)
        return response
    try:
        if hasattr(response, "render"):
            response.render()
    except Exception:
        logger.exception("The answer to an idempotent request could not be rendered")
        release(record)
        return problem_response(500, "server_error", "An unexpected error occurred.")
    try:
        with transaction.atomic():
            _store(record, response)
    except Exception:  # whatever it is, the answer is sent and the key must not stay taken
        logger.exception("The outcome of an idempotent request could not be stored")
        release(record)
    return response


def _store(record: IdempotencyKey, response: Response) -> None:
    record.in_progress = False
    record.response_status = response.status_code
    record.response_body = response.data
    record.response_headers = {h: response[h] for h in KEPT_HEADERS if response.has_header(h)}
    if response.content_type:  # set explicitly for problem details; else the renderer's
        record.response_headers["Content-Type"] = response.content_type
    record.save(
        update_fields=["in_progress", "response_status", "response_body", "response_headers"]
    )


def release(record: IdempotencyKey) -> None:
    """Forget a key whose request has no outcome to replay."""
    try:
        IdempotencyKey.objects.filter(pk=record.pk, in_progress=True).delete()
    except DatabaseError:  # the key is taken over once abandoned
        logger.exception("An idempotency key could not be freed")


def prune(now: datetime.datetime | None = None) -> int:
    """Delete keys older than the configured time to keep them."""
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=settings.OMS_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _abandoned_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.OMS_IDEMPOTENCY_ABANDONED_SECONDS)
