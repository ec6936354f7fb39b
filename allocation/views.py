"""The back office for allocation: the runs, a run with the outcome of every order,
the items blocking the most orders, and starting a run or a dry run. Views validate
input and call one service; htmx requests get the fragment."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from allocation import selectors, services
from allocation.choices import Trigger
from allocation.filters import OutcomeFilter
from allocation.forms import RunForm
from allocation.models import AllocationRun
from allocation.ranking import Ranking
from oms import exports
from oms.actors import Actor
from oms.pages import render_page

PAGE_SIZE = 50
VIEW_PERMISSION = "allocation.view_allocationrun"
RUN_PERMISSION = "allocation.run_allocation"


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def runs(request):
    page = Paginator(selectors.run_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "active": selectors.active_run(),
        "can_run": request.user.has_perm(RUN_PERMISSION),
    }
    return render(request, "allocation/runs.html", context)


@login_required
@require_POST
def start(request):
    """Run now, or a dry run. While a run is going, say so and show it."""
    if not request.user.has_perm(RUN_PERMISSION):
        raise PermissionDenied
    form = RunForm(request.POST)
    dry_run = form.is_valid() and form.cleaned_data["dry_run"]
    try:
        run = services.allocation_run_request(
            actor=Actor.person(request.user), trigger=Trigger.BACK_OFFICE, dry_run=dry_run
        )
    except services.AllocationRunInProgress as exc:
        messages.error(request, str(exc))
        return redirect("allocation:run", pk=exc.run.pk)
    run.refresh_from_db()
    messages.success(request, f"{run} {run.get_status_display().lower()}.")
    return redirect("allocation:run", pk=run.pk)


def _run(pk) -> AllocationRun:
    return get_object_or_404(AllocationRun, pk=pk)


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def run(request, pk):
    """A run and the outcome of every order, filtered; htmx gets the outcomes."""
    run = _run(pk)
    outcomes = OutcomeFilter(request.GET, queryset=selectors.run_outcomes(run))
    page = Paginator(outcomes.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "run": run,
        "filter": outcomes,
        "page": page,
        "query": query.urlencode(),
        **exports.export_urls("allocation:run_csv", "allocation:run_xlsx", query, args=[run.pk]),
        "blocking": run.blocking[:5],
        "ranking": Ranking.from_json(run.ranking).describe() if run.ranking else [],
    }
    return render_page(request, "allocation/run.html", "allocation/partials/outcomes.html", context)


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def run_export(request, pk, fmt):
    """The run's outcomes the page shows with these filters (all pages), as a CSV or
    Excel file named after the run and the filters. A filter value OMS does not accept
    is a 400 naming it, and nothing is exported."""
    run = _run(pk)
    outcomes = OutcomeFilter(request.GET, queryset=selectors.run_outcomes(run))
    if outcomes.errors:
        back = f"{reverse('allocation:run', args=[run.pk])}?{request.GET.urlencode()}"
        return exports.refused(request, outcomes.errors, back=back)
    return exports.export_response(
        fmt,
        f"{'dry-run' if run.dry_run else 'allocation-run'}-{run.pk}",
        selectors.outcome_export_header(),
        selectors.outcome_export_rows(outcomes.qs),
        query=request.GET,
        names=outcomes.form.fields,
    )


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def run_summary(request, pk):
    """The counts of a run, polled while it is queued or running; once it has finished
    the page reloads to show its outcomes."""
    run = _run(pk)
    if not run.is_active and request.GET.get("was") == "active":
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "allocation/partials/summary.html", {"run": run})


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def blocking(request, pk):
    """Every item that kept orders short in this run, the most orders first."""
    run = _run(pk)
    page = Paginator(run.blocking, 100).get_page(request.GET.get("page"))
    return render(request, "allocation/blocking.html", {"run": run, "page": page})
