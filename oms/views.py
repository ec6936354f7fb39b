"""The dashboard and the job runs."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from oms.models import JobRun
from orders.models import DesignEvent
from orders.selectors import jeopardy, order_flow, status_counts


@login_required
def home(request):
    counts = status_counts()
    flow = order_flow(days=30)
    context = {
        "status_counts": counts,
        "most": max((n for _, n in counts), default=0) or 1,
        "jeopardy": jeopardy(timezone.localdate())[:20],
        "limits": settings.OMS_STATUS_LIMIT_DAYS,
        "dead_letters": DesignEvent.objects.filter(status=DesignEvent.Status.INVALID).count(),
        "job_runs": JobRun.objects.order_by("-started_at")[:8],
        "flow": flow,
        "pile_up": max(flow, key=lambda f: f.net) if any(f.net > 0 for f in flow) else None,
    }
    return render(request, "oms/home.html", context)


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
    return render(request, "oms/jobs.html", {"page": page, "names": sorted(set(names))})


@login_required
@permission_required("oms.view_jobrun", raise_exception=True)
def job(request, pk):
    return render(request, "oms/job.html", {"run": get_object_or_404(JobRun, pk=pk)})
