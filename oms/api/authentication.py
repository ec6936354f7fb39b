"""Who is calling: an external client with a bearer token, or a signed-in person
through their session (with CSRF, by DRF's SessionAuthentication)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from rest_framework import authentication, exceptions

from oms.actors import Actor
from oms.clients import client_for_token
from oms.models import ApiClient
from oms.scopes import client_permissions

if TYPE_CHECKING:
    from rest_framework.request import Request


@dataclass(frozen=True)
class ClientPrincipal:
    """Stands in for request.user when an external client calls."""

    client: ApiClient
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def pk(self) -> int:
        return self.client.pk

    def get_username(self) -> str:
        return self.client.name

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return perm in client_permissions(self.client.scopes)

    def __str__(self) -> str:
        return self.client.name


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ClientPrincipal, ApiClient] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        token = token.strip()
        client = client_for_token(token) if token else None
        if client is None:
            raise exceptions.AuthenticationFailed("The token is unknown or revoked.")
        return ClientPrincipal(client), client

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="oms"'


def request_actor(request: Request) -> Actor:
    """The actor of an API request (one that HasScope let through)."""
    if isinstance(request.auth, ApiClient):
        return Actor.client(request.auth.name, permissions=client_permissions(request.auth.scopes))
    assert isinstance(request.user, User), "HasScope lets only clients and people through"
    return Actor.person(request.user)


def caller_key(request: Request) -> str:
    """Identifies the caller for idempotency keys and throttling."""
    if isinstance(request.auth, ApiClient):
        return f"client:{request.auth.pk}"
    return f"user:{request.user.pk}"
