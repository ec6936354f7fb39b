"""Allocation runs: start one (or a dry run), read runs and the outcome of each order."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.reverse import reverse

from allocation import selectors, services
from allocation.api import serializers as s
from allocation.choices import Trigger
from allocation.filters import OutcomeFilter, RunFilter
from allocation.models import AllocationOutcome, AllocationRun
from oms.api.problems import CONTENT_TYPE, problem
from oms.api.views import ApiMixin
from oms.scopes import Scope


class AllocationRunListApi(ApiMixin, generics.ListAPIView):
    """Allocation runs, newest first."""

    required_scope = Scope.ORDERS_READ
    method_scopes = {"POST": Scope.ALLOCATION_RUN}
    serializer_class = s.AllocationRunSerializer
    filterset_class = RunFilter

    def get_queryset(self):
        return selectors.run_list()

    @extend_schema(
        summary="Start an allocation run, or a dry run",
        description="Queues a run over every approved order; a worker executes it (at once "
        "when OMS runs tasks in-process). Follow the run at `url`. One run at a time: "
        "while one is queued or running the answer is 409 naming it. A dry run computes "
        "and reports every outcome and changes no stock, allocation or order.",
        request=s.AllocationRunInput,
        responses={
            202: s.AllocationRunSerializer,
            (409, CONTENT_TYPE): OpenApiResponse(
                s.AllocationRunInProgressSerializer,
                description="A run is already queued or running (`run`), or the "
                "Idempotency-Key is in use.",
            ),
        },
        examples=[OpenApiExample("Dry run", value={"dry_run": True}, request_only=True)],
    )
    def post(self, request):
        data = s.AllocationRunInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            run = services.allocation_run_request(
                actor=self.actor, trigger=Trigger.API, dry_run=data.validated_data["dry_run"]
            )
        except services.AllocationRunInProgress as exc:
            url = reverse("api:allocation-run-detail", args=[exc.run.pk], request=request)
            body = problem(409, exc.code, exc.message)
            body["run"] = {"id": exc.run.pk, "status": exc.run.status, "url": url}
            return Response(body, status=409, content_type=CONTENT_TYPE, headers={"Location": url})
        run.refresh_from_db()
        data = s.AllocationRunSerializer(run, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


class AllocationRunDetailApi(ApiMixin, generics.GenericAPIView):
    """One run: its counts, the ranking it used and the items blocking the most orders."""

    required_scope = Scope.ORDERS_READ
    serializer_class = s.AllocationRunDetailSerializer
    queryset = AllocationRun.objects.none()

    def get(self, request, pk):
        run = get_object_or_404(AllocationRun, pk=pk)
        return Response(s.AllocationRunDetailSerializer(run, context={"request": request}).data)


class AllocationOutcomeListApi(ApiMixin, generics.ListAPIView):
    """What the run did with each order and why, in ranking order."""

    required_scope = Scope.ORDERS_READ
    serializer_class = s.AllocationOutcomeSerializer
    filterset_class = OutcomeFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AllocationOutcome.objects.none()
        run = get_object_or_404(AllocationRun, pk=self.kwargs["pk"])
        return selectors.run_outcomes(run)
