"""Where a webhook delivery is, in a coordinator's words.

A delivery's status is pending, delivered or failed (oms.webhooks). Pending covers
several situations a person tells apart: queued and not sent yet, waiting to retry
after a failed attempt, overdue (its next attempt was due and nothing made it: no
worker runs, or its task was lost), paused (its subscription is inactive). The raw
error of the last attempt stays on the delivery for staff; `explain` puts it in words.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import re
from dataclasses import dataclass

from django.utils import timezone

from oms.models import WebhookDelivery

Status = WebhookDelivery.Status

# A pending delivery due this long ago has not been sent: the sweeper (beat, every
# minute) sends what is due longer than oms.webhooks.SWEEP_GRACE_SECONDS.
OVERDUE_AFTER = datetime.timedelta(seconds=120)


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"
    RETRYING = "retrying"
    OVERDUE = "overdue"
    PAUSED = "paused"
    DELIVERED = "delivered"
    FAILED = "failed"


LABELS = {
    DeliveryState.QUEUED: ("Queued", ""),
    DeliveryState.RETRYING: ("Waiting to retry", "warn"),
    DeliveryState.OVERDUE: ("Overdue", "bad"),
    DeliveryState.PAUSED: ("Paused", "warn"),
    DeliveryState.DELIVERED: ("Delivered", "ok"),
    DeliveryState.FAILED: ("Failed", "bad"),
}


@dataclass(frozen=True)
class DeliveryView:
    state: DeliveryState
    summary: str  # what happened and what comes next
    brief: str = ""  # a few words for a list row
    why: str = ""  # the last attempt's failure in words

    @property
    def label(self) -> str:
        return LABELS[self.state][0]

    @property
    def tone(self) -> str:
        return LABELS[self.state][1]

    @property
    def can_retry(self) -> bool:
        """Whether "Retry now" has something to do."""
        return self.state != DeliveryState.DELIVERED


def delivery_state(
    delivery: WebhookDelivery, *, now: datetime.datetime | None = None
) -> DeliveryView:
    """What the delivery's page and row say about it."""
    view = _state(delivery, now or timezone.now())
    return dataclasses.replace(view, why=explain(delivery.last_status_code, delivery.last_error))


def _state(delivery: WebhookDelivery, now: datetime.datetime) -> DeliveryView:
    if delivery.status == Status.DELIVERED:
        return DeliveryView(
            DeliveryState.DELIVERED,
            f"Delivered at {_at(delivery.delivered_at, now)}{_after(delivery.attempts)}.",
        )
    why = explain(delivery.last_status_code, delivery.last_error)
    if delivery.status == Status.FAILED:
        return DeliveryView(
            DeliveryState.FAILED,
            f"Failed{_after(delivery.attempts)}: {why} OMS stopped trying. Retry it once the "
            "receiver is fixed.",
            brief=why,
        )
    tried = f"Attempt {delivery.attempts} failed: {why} " if delivery.attempts and why else ""
    if not delivery.subscription.active:
        return DeliveryView(
            DeliveryState.PAUSED,
            f"{tried}Paused: the subscription is inactive; it is sent once the subscription "
            "is active again.",
            brief="Subscription inactive",
        )
    due = delivery.next_attempt_at
    if due is not None and due < now - OVERDUE_AFTER:
        waiting, what = ("Waiting to retry", "next attempt")
        if not delivery.attempts:
            waiting, what = ("Not sent yet", "first attempt")
        return DeliveryView(
            DeliveryState.OVERDUE,
            f"{tried}{waiting} — the {what} was due at {_at(due, now)}; overdue: no "
            "background worker has sent it. Retry now sends it.",
            brief=f"{what.capitalize()} was due at {_at(due, now)}",
        )
    if delivery.attempts and not why:
        return DeliveryView(
            DeliveryState.QUEUED,
            f"Being sent (attempt {delivery.attempts}).",
            brief="Being sent",
        )
    if delivery.attempts:
        return DeliveryView(
            DeliveryState.RETRYING,
            f"{tried}Next attempt at {_at(due, now)}." if due else f"{tried}Retried shortly.",
            brief=f"Attempt {delivery.attempts} failed; next at {_at(due, now)}" if due else "",
        )
    return DeliveryView(DeliveryState.QUEUED, "Queued: not sent yet.", brief="Not sent yet")


HTTP_ERROR = re.compile(r"^HTTP (?P<status>[0-9]{3})\b")


def explain(status_code: int | None, error: str) -> str:
    """The last attempt's failure in words ("" when it did not fail)."""
    error = (error or "").strip()
    if not error and not status_code:
        return ""
    if error.startswith("ConnectionError"):
        return "The receiver could not be reached."
    if error.startswith("Timed out"):
        return "The receiver did not answer in time."
    if error.startswith("Not delivered within"):
        return error
    status = status_code
    if status is None and (match := HTTP_ERROR.match(error)):
        status = int(match["status"])
    if status is not None:
        if status >= 500 or status in {408, 429}:
            return f"The receiver had a problem or was busy (HTTP {status})."
        return f"The receiver refused it (HTTP {status})."
    return "The subscription's URL cannot be used."


def _after(attempts: int) -> str:
    return f" after {attempts} attempt{'s' if attempts != 1 else ''}" if attempts else ""


def _at(when: datetime.datetime | None, now: datetime.datetime) -> str:
    if when is None:
        return "—"
    local = timezone.localtime(when)
    if local.date() == timezone.localtime(now).date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")
