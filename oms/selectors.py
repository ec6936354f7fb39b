"""Reads for the core pages: webhook subscriptions and deliveries."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from oms.models import WebhookDelivery, WebhookSubscription
from oms.webhook_states import OVERDUE_AFTER

Status = WebhookDelivery.Status


def subscription_summaries() -> QuerySet[WebhookSubscription]:
    """Subscriptions with their deliveries counted per status, in one query."""
    return WebhookSubscription.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=Status.PENDING)),
        delivered=Count("deliveries", filter=Q(deliveries__status=Status.DELIVERED)),
        failed=Count("deliveries", filter=Q(deliveries__status=Status.FAILED)),
        last_delivered_at=Max("deliveries__delivered_at"),
    ).order_by("name")


def delivery_list() -> QuerySet[WebhookDelivery]:
    """Deliveries for lists, most recently changed first."""
    return WebhookDelivery.objects.select_related("subscription", "event").order_by(
        "-updated_at", "-id"
    )


def delivery_attempts(delivery: WebhookDelivery) -> QuerySet[Any]:
    """The delivery's history: one record per attempt and per retry by hand, newest first."""
    return delivery.history.order_by("-history_date", "-history_id")


def failed_deliveries() -> QuerySet[WebhookDelivery]:
    """Failed deliveries, most recently failed first: for a person to retry."""
    return delivery_list().filter(status=Status.FAILED)


def overdue_deliveries(now: datetime.datetime | None = None) -> QuerySet[WebhookDelivery]:
    """Pending deliveries of active subscriptions whose next attempt was due a while ago
    and not made: no worker sends them (or their task was lost)."""
    cutoff = (now or timezone.now()) - OVERDUE_AFTER
    return WebhookDelivery.objects.filter(
        status=Status.PENDING, next_attempt_at__lt=cutoff, subscription__active=True
    )
