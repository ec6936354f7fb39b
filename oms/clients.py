"""API clients: made, rotated and revoked here; tokens are checked here."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from oms import audit
from oms.actors import Actor
from oms.errors import Problem, ValidationFailed
from oms.models import ApiClient
from oms.scopes import Scope

TOKEN_PREFIX = "oms_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    """A token and its recognisable prefix: oms_<8 chars>_<43 chars of secret>."""
    head = secrets.token_hex(4)
    return f"{TOKEN_PREFIX}{head}_{secrets.token_urlsafe(32)}", f"{TOKEN_PREFIX}{head}"


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown or not scopes:
        raise ValidationFailed(
            "Give one or more known scopes.",
            problems=[
                Problem(code="unknown_scope", field="scopes", message=f"Unknown scope {s!r}.")
                for s in unknown
            ]
            or [Problem(code="required", field="scopes", message="At least one scope.")],
        )
    return scopes


def api_client_create(
    *, name: str, scopes: Iterable[str], actor: Actor, description: str = ""
) -> tuple[ApiClient, str]:
    """Make a client; returns it with its token, which is not stored and not shown again."""
    scopes = _check_scopes(scopes)
    if ApiClient.objects.filter(name=name).exists():
        raise ValidationFailed(
            f"A client named {name!r} exists.",
            problems=[Problem(code="duplicate", field="name", message="Choose another name.")],
        )
    token, prefix = _new_token()
    with transaction.atomic(), audit.acting(actor, reason="API client created"):
        client = ApiClient.objects.create(
            name=name,
            description=description,
            scopes=scopes,
            token_prefix=prefix,
            token_digest=_digest(token),
        )
    return client, token


def api_client_rotate(*, client: ApiClient, actor: Actor) -> str:
    """Give the client a new token; the old one stops working at once."""
    token, prefix = _new_token()
    with transaction.atomic(), audit.acting(actor, reason="API token rotated"):
        client = ApiClient.objects.select_for_update().get(pk=client.pk)
        client.token_prefix, client.token_digest = prefix, _digest(token)
        client.rotated_at = timezone.now()
        client.save()
    return token


def api_client_revoke(*, client: ApiClient, actor: Actor) -> ApiClient:
    with transaction.atomic(), audit.acting(actor, reason="API client revoked"):
        client = ApiClient.objects.select_for_update().get(pk=client.pk)
        if client.revoked_at is None:
            client.is_active = False
            client.revoked_at = timezone.now()
            client.save()
    return client


def client_for_token(token: str) -> ApiClient | None:
    """The active client holding this token, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    client = ApiClient.objects.filter(token_digest=_digest(token), is_active=True).first()
    if client is not None:
        now = timezone.now()
        # Recorded at most once a minute per client, outside the audited fields.
        if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client
