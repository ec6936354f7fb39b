"""Where a release request is, in a coordinator's words.

A release is requested of a warehouse and delivered to its system by a task that tries
again after each failure a retry can fix (warehouse.dispatch). `release_delivery` says
which of these it is in, why, and what a person can do:

- sending: queued, no attempt has failed yet;
- retrying: attempts failed, the next one is due at `next_attempt_at`;
- not delivered: OMS stopped trying; a person sends it again from the order page;
- delivered: the warehouse's system took the request and has not answered yet
  (unanswered once OMS stopped asking it again);
- accepted, rejected, completed: what the warehouse answered.

The raw error of the last call (`Release.last_error`) is read back into plain words
here; it stays on the release, and on the calls of the order's timeline, for staff.
"""

from __future__ import annotations

import datetime
import enum
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from warehouse.integration import client
from warehouse.integration.choices import ReleaseStatus
from warehouse.integration.models import Release


class DeliveryState(enum.StrEnum):
    SENDING = "sending"
    RETRYING = "retrying"
    NOT_DELIVERED = "not_delivered"
    DELIVERED = "delivered"
    UNANSWERED = "unanswered"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COMPLETED = "completed"


# Short words for a tag, and how the tag looks.
LABELS = {
    DeliveryState.SENDING: ("Sending to warehouse", ""),
    DeliveryState.RETRYING: ("Retrying delivery", "warn"),
    DeliveryState.NOT_DELIVERED: ("Release not delivered", "bad"),
    DeliveryState.DELIVERED: ("Awaiting warehouse", ""),
    DeliveryState.UNANSWERED: ("Warehouse not answering", "bad"),
    DeliveryState.ACCEPTED: ("Accepted by warehouse", "ok"),
    DeliveryState.REJECTED: ("Rejected by warehouse", "bad"),
    DeliveryState.COMPLETED: ("Shipped", "ok"),
}

# For an order with several releases, the one its queue row shows: the first of these.
URGENCY = [
    DeliveryState.NOT_DELIVERED,
    DeliveryState.UNANSWERED,
    DeliveryState.RETRYING,
    DeliveryState.SENDING,
    DeliveryState.DELIVERED,
    DeliveryState.ACCEPTED,
]

# A retry this late has not been made: its task was lost or no worker runs it.
OVERDUE_AFTER = datetime.timedelta(minutes=2)


@dataclass(frozen=True)
class Delivery:
    state: DeliveryState
    warehouse: str  # its code
    summary: str  # what happened, one or two sentences
    next_step: str = ""  # what a person can do about it, if anything
    can_send_again: bool = False
    brief: str = ""  # a few words for a list row

    @property
    def label(self) -> str:
        return LABELS[self.state][0]

    @property
    def tone(self) -> str:
        return LABELS[self.state][1]

    @property
    def needs_attention(self) -> bool:
        return self.tone == "bad"

    @property
    def text(self) -> str:
        return f"{self.summary} {self.next_step}".strip()

    @property
    def notice(self) -> tuple[str, str]:
        """What to tell the person who just released: (message level, words)."""
        if self.state == DeliveryState.SENDING:
            return "success", f"Release queued for sending to warehouse {self.warehouse}."
        level = {"bad": "error", "warn": "warning"}.get(self.tone, "success")
        return level, self.text


def release_delivery(release: Release, *, now: datetime.datetime | None = None) -> Delivery:
    """Where the release is, why, and what to do (see the module docstring)."""
    now = now or timezone.now()
    code = release.warehouse.code
    if release.status == ReleaseStatus.REJECTED:
        why = f": {release.reason}" if release.reason else "."
        return Delivery(DeliveryState.REJECTED, code, f"Rejected by warehouse {code}{why}")
    if release.status == ReleaseStatus.COMPLETED:
        return Delivery(
            DeliveryState.COMPLETED,
            code,
            f"Shipped: warehouse {code} completed it{_on(release.finished_at, now)}.",
        )
    if release.status == ReleaseStatus.ACCEPTED:
        return Delivery(
            DeliveryState.ACCEPTED,
            code,
            f"Accepted by warehouse {code}{_on(release.accepted_at, now)}; waiting for it to ship.",
        )
    if release.sent_at is not None:
        return _delivered(release, code, now)
    attempts = _attempts(release.attempts)
    if release.delivery_failed_at is not None:
        return Delivery(
            DeliveryState.NOT_DELIVERED,
            code,
            f"Not delivered to warehouse {code}. {explain(release.last_error)} OMS stopped "
            f"trying{_on(release.delivery_failed_at, now)}"
            + (f", after {attempts}." if release.attempts else "."),
            next_step=_what_to_do(release.last_error, code),
            can_send_again=True,
            brief=f"{explain(release.last_error)} Send it again from the order.",
        )
    if release.last_error or release.next_attempt_at:
        if release.next_attempt_at is None:
            when, next_brief = "OMS tries again shortly.", "next shortly"
        elif release.next_attempt_at < now - OVERDUE_AFTER:
            due = _at(release.next_attempt_at, now)
            when = (
                f"The next attempt was due at {due} and is overdue; OMS sends it again by "
                "itself within a few minutes."
            )
            next_brief = f"next was due at {due}, overdue"
        else:
            due = _at(release.next_attempt_at, now)
            when, next_brief = f"Next attempt at {due}.", f"next at {due}"
        tried = f"{attempts} failed so far" if release.attempts else "not sent yet"
        return Delivery(
            DeliveryState.RETRYING,
            code,
            f"Retrying delivery to warehouse {code} ({tried}). {explain(release.last_error)} "
            f"{when}",
            brief=f"{attempts} failed; {next_brief}" if release.attempts else next_brief,
        )
    earlier = f" Sent again after {attempts} that failed." if release.attempts else ""
    return Delivery(
        DeliveryState.SENDING,
        code,
        f"Queued for sending to warehouse {code}; not delivered yet.{earlier}",
        brief="Queued, not delivered yet",
    )


def _delivered(release: Release, code: str, now: datetime.datetime) -> Delivery:
    asked = _times(release.asks)
    if release.unanswered_at is not None:
        return Delivery(
            DeliveryState.UNANSWERED,
            code,
            f"Not answered: warehouse {code} took this release{_on(release.sent_at, now)} and "
            f"has neither accepted nor rejected it, though asked again {asked}.",
            next_step="Call them, or send it again.",
            can_send_again=True,
            brief=f"No answer since {_at(release.sent_at, now)}",
        )
    summary = (
        f"Delivered to warehouse {code}{_on(release.sent_at, now)}; waiting for it to accept "
        "the release."
    )
    if release.asks:
        summary += f" Asked again {asked}, last{_on(release.last_asked_at, now)}."
    return Delivery(
        DeliveryState.DELIVERED,
        code,
        summary,
        brief=f"Delivered at {_at(release.sent_at, now)}; no answer yet",
    )


def order_delivery(releases: Iterable[Release], *, now=None) -> Delivery | None:
    """The delivery an order's row shows: that of its most urgent release still waiting
    for, or in, the warehouse's hands (None when none is)."""
    deliveries = [release_delivery(release, now=now) for release in releases]
    shown = [d for d in deliveries if d.state in URGENCY]
    return min(shown, key=lambda d: URGENCY.index(d.state)) if shown else None


# --- The last error in words ------------------------------------------------------------

STATUS_ERROR = re.compile(r"^(?P<status>[1-5][0-9]{2})\b[^:]*:?\s*(?P<body>.*)$", re.DOTALL)


def explain(error: str) -> str:
    """The last error of a release's delivery, as a coordinator would put it."""
    error = (error or "").strip()
    if not error:
        return "The last attempt failed."
    if error.startswith(client.CONNECTION_FAILED):
        return "The warehouse could not be reached."
    if error.startswith(client.TIMED_OUT):
        return "The warehouse did not answer in time."
    if error == client.NO_URL:
        return "No address is set up for the warehouse's system."
    if error.startswith(client.REQUEST_FAILED):
        return "The request could not be sent to the address set up for the warehouse."
    if error.startswith(client.CIRCUIT_OPEN.split("{", 1)[0]):
        return "Calls to the warehouse are paused after several failed in a row."
    match = STATUS_ERROR.match(error)
    if match is None:
        return "The last attempt failed."
    status = int(match["status"])
    if status == 429:
        return "The warehouse asked OMS to wait before sending more."
    if status >= 500 or status == 408:
        return f"The warehouse's system had a problem (error {status})."
    said = _their_message(match["body"])
    return f"The warehouse refused the release{f': {said}' if said else f' (error {status})'}."


def _their_message(body: str) -> str:
    """What the warehouse said in a refusal: its JSON's detail or message, or its text."""
    body = body.strip()
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("detail", "message", "title", "error", "reason"):
            if isinstance(data.get(key), str) and data[key].strip():
                return _sentence(data[key])
        return ""
    if body.startswith("<"):  # an HTML error page says nothing to a coordinator
        return ""
    return _sentence(body)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return (text[:197] + "…" if len(text) > 200 else text).rstrip(".")


def _what_to_do(error: str, code: str) -> str:
    if error == client.NO_URL or error.startswith(client.REQUEST_FAILED):
        return (
            "Ask an administrator to set the address of the warehouse's system, then send it again."
        )
    match = STATUS_ERROR.match(error or "")
    if match and 400 <= int(match["status"]) < 500 and int(match["status"]) not in {408, 429}:
        return f"Check the release with warehouse {code}, then send it again."
    return f"Check with warehouse {code} that their system is up, then send it again."


# --- Words for numbers and times --------------------------------------------------------


def _attempts(n: int) -> str:
    return f"{n} attempt{'s' if n != 1 else ''}"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _at(when: datetime.datetime, now: datetime.datetime) -> str:
    """A time of day, with its date when not today."""
    local = timezone.localtime(when)
    if local.date() == timezone.localtime(now).date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def _on(when: datetime.datetime | None, now: datetime.datetime, word: str = "at") -> str:
    return f" {word} {_at(when, now)}" if when else ""
