"""Who does something: a person, the system (a named job), or an external client."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import models

from oms.errors import ActionForbidden

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ActorKind(models.TextChoices):
    PERSON = "person", "Person"
    SYSTEM = "system", "System"
    CLIENT = "client", "External client"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str
    user: User | None = None
    # The Django permissions an external client holds through its scopes.
    permissions: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def person(cls, user: User) -> Actor:
        return cls(kind=ActorKind.PERSON, name=user.get_username(), user=user)

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(kind=ActorKind.SYSTEM, name=job)

    @classmethod
    def client(cls, name: str, permissions: Iterable[str] = ()) -> Actor:
        return cls(kind=ActorKind.CLIENT, name=name, permissions=frozenset(permissions))

    @property
    def is_person(self) -> bool:
        return self.kind == ActorKind.PERSON

    def has_perm(self, perm: str) -> bool:
        """System jobs act on the system's own authority; others need the permission."""
        if self.kind == ActorKind.SYSTEM:
            return True
        if self.kind == ActorKind.PERSON:
            assert self.user is not None, "a person acts as a user"
            return self.user.is_active and self.user.has_perm(perm)
        return perm in self.permissions

    def require(self, perm: str, what: str) -> None:
        """Refuse (ActionForbidden) what the actor may not do: "<actor> may not <what>".
        Services refuse through this one way; has_perm is for deciding what to show."""
        if not self.has_perm(perm):
            raise ActionForbidden(f"{self} may not {what}.")

    def as_payload(self) -> dict:
        """Who acted, as events and their webhooks tell it."""
        return {"kind": self.kind.value, "name": self.name}

    def __str__(self) -> str:
        return f"{self.name} ({self.kind.label.lower()})"
