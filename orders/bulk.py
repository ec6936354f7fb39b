"""What a bulk action on the queue did, in a coordinator's words: "5 of 6 approved", and
for each order it left alone, why ("you edited its lines, so another coordinator must
approve it"). The rules stay in the services; this only words their refusals."""

from __future__ import annotations

from dataclasses import dataclass, field

from oms.errors import ApprovalBlocked, DomainError, FourEyesViolation, TransitionNotAllowed
from orders.choices import OrderStatus
from orders.models import Order, transition_moves


@dataclass(frozen=True)
class Outcome:
    number: str
    done: bool
    reason: str = ""  # why it was left alone
    known: bool = True  # an order of that number exists (its number is a link)
    note: str = ""  # what came of it, for one done that says more than done (a release)


@dataclass
class BulkReport:
    done_label: str  # what happened to the ones done: "approved"
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, number: str, reason: str = "", *, known: bool = True, note: str = "") -> None:
        self.outcomes.append(Outcome(number, not reason, reason, known, note))

    @property
    def notes(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.done and o.note]

    @property
    def done(self) -> list[str]:
        return [o.number for o in self.outcomes if o.done]

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.done]

    @property
    def summary(self) -> str:
        return f"{len(self.done)} of {len(self.outcomes)} {self.done_label}"


def status_words(status: str) -> str:
    """A status as a coordinator says it after "it is": "a draft", "approved"."""
    if status == OrderStatus.DRAFT:
        return "a draft"
    return OrderStatus(status).label.lower()


def refusal(exc: DomainError, order: Order, transition: str, done_label: str) -> str:
    """Why the service left this order alone, worded for the line that starts with its
    number."""
    if isinstance(exc, FourEyesViolation):
        return (
            "you edited its lines, need-by date or priority, so another coordinator must approve it"
        )
    if isinstance(exc, ApprovalBlocked) and exc.problems:
        return "it cannot be approved yet: " + "; ".join(
            _lower_first(p.message.rstrip(".")) for p in exc.problems
        )
    if isinstance(exc, TransitionNotAllowed) and not _can_leave(order, transition):
        return _wrong_status(order, transition, done_label)
    return str(exc)


def _can_leave(order: Order, transition: str) -> bool:
    return order.status in _sources(transition)


def _sources(transition: str) -> set[str]:
    return {move.source for move in transition_moves(transition)}


def _wrong_status(order: Order, transition: str, done_label: str) -> str:
    targets = {move.target for move in transition_moves(transition)}
    now = status_words(order.status)
    if order.status in targets:
        return f"it is already {now}"
    sources = _sources(transition)
    named = [status.label.lower() for status in OrderStatus if status in sources]
    allowed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
    return f"it is {now}; only {allowed} orders can be {done_label}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
