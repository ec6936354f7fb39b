"""Reads for the core pages: webhook subscriptions and deliveries."""

from django.db.models import Count, Max, Q

from oms.models import WebhookDelivery, WebhookSubscription

Status = WebhookDelivery.Status


def subscription_summaries():
    """Subscriptions with their deliveries counted per status, in one query."""
    return WebhookSubscription.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=Status.PENDING)),
        delivered=Count("deliveries", filter=Q(deliveries__status=Status.DELIVERED)),
        failed=Count("deliveries", filter=Q(deliveries__status=Status.FAILED)),
        last_delivered_at=Max("deliveries__delivered_at"),
    ).order_by("name")


def delivery_list():
    """Deliveries for lists, most recently changed first."""
    return WebhookDelivery.objects.select_related("subscription", "event").order_by(
        "-updated_at", "-id"
    )


def delivery_attempts(delivery: WebhookDelivery):
    """The delivery's history: one record per attempt and per retry by hand, newest first."""
    return delivery.history.order_by("-history_date", "-history_id")
