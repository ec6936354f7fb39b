"""Domain errors. Services raise these; the web, API and task layers translate them."""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request, for example one line that blocks approval."""

    code: str
    message: str
    field: str = ""

    def as_dict(self) -> dict:
        data = {"code": self.code, "message": self.message}
        if self.field:
            data["field"] = self.field
        return data


class DomainError(Exception):
    """Base of every business error. `code` is stable and machine-readable."""

    code = "domain_error"

    def __init__(
        self, message: str, *, code: str | None = None, problems: Iterable[Problem] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.problems: tuple[Problem, ...] = tuple(problems)

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return self.message + " " + "; ".join(p.message for p in self.problems)


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"


class ActionForbidden(DomainError):
    code = "forbidden"


class ReasonRequired(DomainError):
    code = "reason_required"


class ValidationFailed(DomainError):
    code = "validation_failed"


class ApprovalBlocked(DomainError):
    code = "approval_blocked"


class FourEyesViolation(DomainError):
    code = "four_eyes"


class StaleVersion(DomainError):
    """The caller worked on an older version of the object than the one stored.
    `version` is the stored one, when the caller named the version it read."""

    code = "stale_version"

    def __init__(
        self,
        message: str,
        *,
        version: int | None = None,
        code: str | None = None,
        problems: Iterable[Problem] = (),
    ) -> None:
        super().__init__(message, code=code, problems=problems)
        self.version = version


class InsufficientStock(DomainError):
    code = "insufficient_stock"


class NotFound(DomainError):
    code = "not_found"
