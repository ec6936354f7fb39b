"""Live updates of the order page and the queue: the marks (ETags) that say whether what
a page shows has changed since it was drawn.

A page asks every few seconds with the ETag it was drawn with (If-None-Match); an
unchanged mark is answered 304 Not Modified after one small query, and only a changed
one is drawn again. Each mark is read in one SELECT:

- an order: its version and last change (every change of the order or its lines raises
  the version), and, by the order's id through their indexes, the newest change and
  number of its releases (delivery attempts, warehouse answers), the number of its
  notes, its newest allocation outcome and its newest follow-up order;
- the queue: the newest change of any order (the first entry of the updated_at index)
  and of any release (the first entry of the release updated_at index): two
  single-entry index reads, whatever the number of orders, never a count of the
  filtered set. Orders are never deleted, so a change always raises one of them.

Both marks also hold the person (what the page offers depends on their permissions and
on who edited the lines) and today's date (jeopardy and the limits count days), and the
queue's mark its query string.

The queue's mark misses one thing: a change written with an earlier timestamp but
committed after a later one (two writers in the same second) raises no maximum; it is
shown with the next change of any order, or at the next reload.
"""

from __future__ import annotations

import hashlib

from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone

from allocation.models import AllocationOutcome
from orders.models import Order, OrderNote
from warehouse.integration.models import Release


def _tag(kind: str, *parts) -> str:
    digest = hashlib.blake2b(
        "\x1f".join(str(part) for part in parts).encode("utf-8", "surrogatepass"),
        digest_size=12,
    ).hexdigest()
    return f'"{kind}-{digest}"'


def _per_order(model, value):
    """One value of the order's rows in `model`, as a subquery by the order's id."""
    rows = model.objects.filter(order_id=OuterRef("pk")).order_by().values("order_id")
    return Subquery(rows.annotate(value=value).values("value")[:1])


def order_etag(request, number: str) -> str | None:
    """The mark of an order's page as this person sees it today, or None when there is
    no such order (one query, read once per request)."""
    cached = getattr(request, "_oms_order_etag", None)
    if cached is None or cached[0] != number:
        cached = (number, _order_etag(number, request.user.pk))
        request._oms_order_etag = cached
    return cached[1]


def _order_etag(number: str, user_id) -> str | None:
    row = (
        Order.objects.filter(number=number)
        .annotate(
            live_releases_changed=_per_order(Release, Max("updated_at")),
            live_releases=_per_order(Release, Count("id")),
            live_notes=_per_order(OrderNote, Count("id")),
            live_outcome=_per_order(AllocationOutcome, Max("run_id")),
            live_child=Subquery(
                Order.objects.filter(parent_id=OuterRef("pk")).order_by("-id").values("id")[:1]
            ),
        )
        .values_list(
            "pk",
            "version",
            "updated_at",
            "live_releases_changed",
            "live_releases",
            "live_notes",
            "live_outcome",
            "live_child",
        )
        .first()
    )
    if row is None:
        return None
    return _tag("order", *row, user_id, timezone.localdate())


def queue_mark() -> tuple:
    """The newest change of any order and of any release (one query: two single-entry
    index reads)."""
    newest_release = Release.objects.order_by("-updated_at").values("updated_at")[:1]
    row = (
        Order.objects.order_by("-updated_at", "-id")
        .annotate(release=Subquery(newest_release))
        .values_list("updated_at", "id", "release")
        .first()
    )
    return row or ()


def queue_etag(request) -> str:
    """The mark of the queue's results for this query string, this person and today,
    read once per request."""
    cached = getattr(request, "_oms_queue_etag", None)
    if cached is None:
        query = request.META.get("QUERY_STRING", "")
        cached = _tag("queue", *queue_mark(), request.user.pk, timezone.localdate(), query)
        request._oms_queue_etag = cached
    return cached
