"""The dashboard, the job runs, and webhook subscriptions and deliveries."""

import json
import re
import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from django.views.decorators.http import require_GET, require_POST

from allocation.selectors import last_run
from oms import outages, selectors, untrusted, webhooks
from oms.actors import Actor
from oms.api.problems import database_unavailable_response
from oms.job_details import job_report
from oms.models import JobRun, WebhookDelivery, WebhookSubscription
from oms.pages import render_page
from oms.shell import analysis
from oms.webhook_states import delivery_state
from oms.webhook_states import explain as explain_failure
from orders.models import DesignEvent
from orders.selectors import jeopardy, order_flow, status_counts
from warehouse.integration.delivery import release_delivery
from warehouse.integration.selectors import unanswered_releases, undelivered_releases
from warehouse.ledger.models import Return, StockLevel

UNANSWERED_SHOWN = 10
# Rows of each list in the dashboard's "Needs attention" (the rest are counted).
ATTENTION_SHOWN = 10
# A delivery id as a form sends it (ids beyond a bigint are not ids).
DELIVERY_ID = re.compile(r"[0-9]{1,18}")


@login_required
def home(request):
    counts = status_counts()
    flow = order_flow(days=30)
    unanswered = list(unanswered_releases()[:UNANSWERED_SHOWN])
    undelivered, undelivered_more = _first(undelivered_releases(), ATTENTION_SHOWN)
    can_see_deliveries = request.user.has_perm("oms.view_webhookdelivery")
    failed, failed_more = (
        _first(selectors.failed_deliveries(), ATTENTION_SHOWN) if can_see_deliveries else ([], 0)
    )
    for release in undelivered:
        release.delivery = release_delivery(release)
    for delivery in failed:
        delivery.state = delivery_state(delivery)
    context = {
        "status_counts": counts,
        "most": max((n for _, n in counts), default=0) or 1,
        "jeopardy": jeopardy(timezone.localdate())[:20],
        "limits": settings.OMS_STATUS_LIMIT_DAYS,
        "dead_letters": DesignEvent.objects.filter(status=DesignEvent.Status.INVALID).count(),
        "returns_waiting": Return.objects.filter(resolution="").count(),
        "failed_deliveries": failed,
        "failed_deliveries_count": len(failed) + failed_more,
        "overdue_deliveries": (selectors.overdue_deliveries().count() if can_see_deliveries else 0),
        "undelivered": undelivered,
        "undelivered_more": undelivered_more,
        "below_minimum": StockLevel.objects.filter(below_minimum=True).count(),
        "unanswered": unanswered,
        "unanswered_more": (
            unanswered_releases().count() - len(unanswered)
            if len(unanswered) == UNANSWERED_SHOWN
            else 0
        ),
        "job_runs": JobRun.objects.order_by("-started_at")[:8],
        "flow": flow,
        "pile_up": max(flow, key=lambda f: f.net) if any(f.net > 0 for f in flow) else None,
        "last_run": last_run() if request.user.has_perm("allocation.view_allocationrun") else None,
    }
    return render(request, "oms/home.html", context)


def _first(rows, shown: int) -> tuple[list, int]:
    """The first `shown` rows, and how many more there are (counted only when the list
    is full)."""
    first = list(rows[:shown])
    more = rows.count() - len(first) if len(first) == shown else 0
    return first, more


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def trends(request):
    """Week by week: orders created, approved and closed; lead time from approval to
    close per market; rejections per reason; the items that kept orders short."""
    return render(request, "oms/trends.html", {"trends": analysis.trends()})


@login_required
@permission_required("oms.view_jobrun", raise_exception=True)
def jobs(request):
    runs = JobRun.objects.order_by("-started_at", "-id")
    if request.GET.get("name"):
        runs = runs.filter(name=request.GET["name"])
    if request.GET.get("status") in JobRun.Status.values:
        runs = runs.filter(status=request.GET["status"])
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    names = JobRun.objects.order_by().values_list("name", flat=True).distinct()
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "names": sorted(set(names)),
        "statuses": JobRun.Status.choices,
        "query": query.urlencode(),
    }
    return render(request, "oms/jobs.html", context)


@login_required
@permission_required("oms.view_jobrun", raise_exception=True)
def job(request, pk):
    """One job run: its counts in words, its detail as fields and tables."""
    run = get_object_or_404(JobRun, pk=pk)
    return render(request, "oms/job.html", {"run": run, "report": job_report(run)})


# --- Webhooks ---------------------------------------------------------------------------


@login_required
@permission_required("oms.view_webhooksubscription", raise_exception=True)
@require_GET
def webhooks_page(request):
    return render(
        request, "oms/webhooks.html", {"subscriptions": selectors.subscription_summaries()}
    )


@login_required
@permission_required("oms.view_webhookdelivery", raise_exception=True)
@require_GET
def deliveries(request):
    """Deliveries by status (failed by default), with "Retry" for one or many."""
    status = request.GET.get("status", WebhookDelivery.Status.FAILED)
    rows = selectors.delivery_list()
    if status in WebhookDelivery.Status.values:
        rows = rows.filter(status=status)
    subscription = request.GET.get("subscription", "")
    if subscription.isdigit():
        rows = rows.filter(subscription_id=int(subscription))
    if request.GET.get("type"):
        rows = rows.filter(event__event_type=request.GET["type"])
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for row in page.object_list:
        row.state = delivery_state(row)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "status": status,
        "statuses": WebhookDelivery.Status.choices,
        "subscriptions": WebhookSubscription.objects.order_by("name").values_list("pk", "name"),
        "subscription": subscription,
        "query": query.urlencode(),
        "can_retry": request.user.has_perm("oms.retry_webhookdelivery"),
    }
    return render_page(request, "oms/deliveries.html", "oms/partials/delivery_list.html", context)


@login_required
@permission_required("oms.view_webhookdelivery", raise_exception=True)
@require_GET
def delivery_detail(request, pk):
    delivery = get_object_or_404(selectors.delivery_list(), pk=pk)
    attempts = list(selectors.delivery_attempts(delivery)[:100])
    for record in attempts:
        record.why = explain_failure(record.last_status_code, record.last_error)
    context = {
        "delivery": delivery,
        "state": delivery_state(delivery),
        "attempts": attempts,
        "body": json.dumps(json.loads(webhooks.event_body(delivery.event)), indent=2),
        "can_retry": request.user.has_perm("oms.retry_webhookdelivery"),
    }
    return render(request, "oms/delivery.html", context)


@login_required
@require_POST
def retry_deliveries(request, pk=None):
    """Send deliveries again now: the one in the URL, or those ticked in the list. Failed
    and pending ones are sent at once; a delivered one is left as it is."""
    if not request.user.has_perm("oms.retry_webhookdelivery"):
        raise PermissionDenied
    ids = (
        [pk]
        if pk is not None
        else [int(v) for v in request.POST.getlist("deliveries") if DELIVERY_ID.fullmatch(v)]
    )
    if not ids:
        results, error = [], "Select at least one delivery."
    elif len(ids) > 200:
        results, error = [], "Select at most 200 deliveries at once."
    else:
        error = ""
        results = webhooks.webhook_retry(delivery_ids=ids, actor=Actor.person(request.user))
    if request.htmx:
        response = render(
            request, "oms/partials/retry_results.html", {"results": results, "error": error}
        )
        if any(r.ok for r in results):
            response["HX-Trigger"] = "deliveries-retried"
        return response
    if error:
        messages.error(request, error)
    for result in results:
        report = getattr(messages, result.level)
        report(request, f"Delivery #{result.delivery_id}: {result.message}")
    back = request.POST.get("next", "")
    if not (
        untrusted.is_acceptable(back)
        and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    ):
        back = reverse("webhook_deliveries")
    return redirect(back)


def server_error(request):
    """handler500: an error that no view answered, raised in middleware (reading the
    signed-in user's session, say). The database being unreachable answers 503 with
    Retry-After instead (oms.outages)."""
    error = sys.exc_info()[1]
    if error is not None and outages.database_unreachable(error):
        outages.database.failed(error)
        return database_unavailable_response(request)
    return defaults.server_error(request)
