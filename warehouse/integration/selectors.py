"""Reads for releases: an order's releases with their warehouse's circuit, and the
releases that wait for a person."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from orders.models import Order
from warehouse.integration.breaker import Breaker, State
from warehouse.integration.choices import ReleaseStatus
from warehouse.integration.delivery import Delivery, release_delivery
from warehouse.integration.models import Release

# Releases still on their way to, or in the hands of, the warehouse.
OPEN_RELEASE_STATUSES = [ReleaseStatus.REQUESTED, ReleaseStatus.ACCEPTED]


@dataclass(frozen=True)
class ReleaseView:
    """A release as the order page shows it, with its warehouse's circuit."""

    release: Release
    circuit: State
    requested: list[dict]  # [{"item", "quantity", "shipped", "short"}]
    delivery: Delivery

    @property
    def paused(self) -> bool:
        """Calls to the warehouse are paused (its circuit is open) while this release
        waits to be delivered."""
        return self.circuit != State.CLOSED and self.release.is_waiting_for_delivery


def order_releases(order: Order) -> list[ReleaseView]:
    """The order's releases, oldest first (one query; the circuits from the cache)."""
    releases = list(order.releases.select_related("warehouse").order_by("created_at", "pk"))
    circuits = {code: Breaker(code).state()[0] for code in {r.warehouse.code for r in releases}}
    return [
        ReleaseView(
            release=release,
            circuit=circuits[release.warehouse.code],
            requested=[_requested(line, release.shipped) for line in release.lines],
            delivery=release_delivery(release),
        )
        for release in releases
    ]


def open_releases(order: Order) -> list[Release]:
    """The order's releases still on their way to, or in the hands of, the warehouse."""
    return list(
        Release.objects.filter(order_id=order.pk, status__in=OPEN_RELEASE_STATUSES)
        .select_related("warehouse")
        .order_by("created_at", "pk")
    )


def open_releases_prefetch() -> Prefetch:
    """For a list of orders: each order's open releases as `open_releases` (one query
    for the whole list)."""
    return Prefetch(
        "releases",
        queryset=Release.objects.filter(status__in=OPEN_RELEASE_STATUSES)
        .select_related("warehouse")
        .order_by("created_at", "pk"),
        to_attr="open_releases",
    )


def _requested(line: dict, shipped_by_item: dict) -> dict:
    shipped = shipped_by_item.get(line["item"])
    short = line["quantity"] - shipped if shipped is not None else 0
    return {**line, "shipped": shipped, "short": short}


def unanswered_releases() -> QuerySet[Release]:
    """Releases the warehouse took and never answered, after OMS asked as often as it
    does: for a person to follow up. Oldest first."""
    return (
        Release.objects.filter(
            status=ReleaseStatus.REQUESTED, sent_at__isnull=False, unanswered_at__isnull=False
        )
        .select_related("order", "warehouse")
        .order_by("sent_at", "pk")
    )


def undelivered_releases() -> QuerySet[Release]:
    """Releases OMS stopped trying to deliver: for a person to send again. Oldest
    first."""
    return (
        Release.objects.filter(
            status=ReleaseStatus.REQUESTED, sent_at__isnull=True, delivery_failed_at__isnull=False
        )
        .select_related("order", "warehouse")
        .order_by("delivery_failed_at", "pk")
    )
