"""Order, project and review endpoints. Reads use the selectors; each state change is
one small view with its own input serializer that calls one service."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from catalog.models import Item, Kit
from oms.api.pagination import Rows
from oms.api.preconditions import etag, if_match, not_modified
from oms.api.views import ApiMixin
from oms.errors import Problem, ValidationFailed
from oms.scopes import Scope
from orders import project_import, selectors, services
from orders.api import serializers as s
from orders.filters import OrderFilter, ProjectFilter
from orders.models import ORDER_NUMBER_PATTERN, Order, OrderNote, OrderRevision, Project
from orders.web import timeline
from warehouse.integration.releases import release_order

NUMBER = ORDER_NUMBER_PATTERN


class OrderListApi(ApiMixin, generics.ListAPIView):
    """Orders, most recently changed first, filtered like the back office queue."""

    required_scope = Scope.ORDERS_READ
    serializer_class = s.OrderRowSerializer
    filterset_class = OrderFilter

    def get_queryset(self):
        return selectors.order_list()

    def paginate_queryset(self, queryset):
        return super().paginate_queryset(Rows(queryset, s.OrderRowSerializer.COLUMNS))


def _detail_response(request, view, number: str, *, status_code=status.HTTP_200_OK):
    order = get_object_or_404(selectors.order_detail(), number=number)
    data = s.OrderDetailSerializer(order, context={"actor": view.actor, "request": request}).data
    return Response(data, status=status_code, headers={"ETag": etag(order.version)})


class OrderDetailApi(ApiMixin, generics.GenericAPIView):
    required_scope = Scope.ORDERS_READ
    method_scopes = {"PATCH": Scope.ORDERS_WRITE}
    if_match = {"PATCH": True}
    serializer_class = s.OrderDetailSerializer

    @extend_schema(
        summary="An order with its lines, parent, children and allowed transitions",
        responses={200: s.OrderDetailSerializer, 304: OpenApiResponse(description="Unchanged")},
    )
    def get(self, request, number):
        if "If-None-Match" in request.headers:
            version = Order.objects.filter(number=number).values_list("version", flat=True).first()
            if version is not None and not_modified(request, version):
                headers = {"ETag": etag(version)}
                return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return _detail_response(request, self, number)

    @extend_schema(
        summary="Edit the lines, need-by date and priority of a DRAFT order (If-Match required)",
        description="Quantity changes, added items and kits, removed lines and a new need-by "
        "date or priority (with a `reason`) are applied together or not at all; with none of "
        "them nothing changes. Send `If-Match` with the ETag you read; a changed order is 412.",
        request=s.LineEditsInput,
        responses={200: s.OrderDetailSerializer},
        examples=[
            OpenApiExample(
                "Change, add and remove",
                value={
                    "update": [{"line": 12, "quantity": 4}],
                    "add": [{"item": "JMP-03", "quantity": 6}],
                    "remove": [15],
                },
                request_only=True,
            )
        ],
    )
    def patch(self, request, number):
        data = _valid(s.LineEditsInput, request)
        items = _by_code(Item, (a["item"] for a in data["add"]), "item", "add[{}].item")
        kits = _by_code(Kit, (k["kit"] for k in data["kits"]), "kit", "kits[{}].kit")
        edits = services.LineEdits(
            quantities={u["line"]: u["quantity"] for u in data["update"]},
            add=[(items[a["item"]], a["quantity"]) for a in data["add"]],
            remove=data["remove"],
            kits=[(kits[k["kit"]], k["quantity"]) for k in data["kits"]],
        )
        order = get_object_or_404(Order, number=number)
        # The lines and the header change together or not at all.
        with if_match(request, required=self.if_match["PATCH"]) as versions, transaction.atomic():
            order = services.order_edit_lines(
                order=order, edits=edits, actor=self.actor, expected_version=versions
            )
            if "need_by" in data or "national_priority" in data:
                services.order_edit_header(
                    order=order,
                    actor=self.actor,
                    need_by=data.get("need_by"),
                    national_priority=data.get("national_priority"),
                    reason=data["reason"],
                    expected_version=order.version,
                )
        return _detail_response(request, self, number)


def _by_code(model, codes, name: str, field: str) -> dict:
    """The rows of `model` (each a `name`) with these codes; an unknown code is a problem of
    the request (422) naming its place (`field` takes the position: "add[{}].item")."""
    codes = list(codes)
    found = model.objects.in_bulk(codes, field_name="code")
    unknown = [
        Problem(code="does_not_exist", field=field.format(i), message=f"No {name} {code!r}.")
        for i, code in enumerate(codes)
        if code not in found
    ]
    if unknown:
        raise ValidationFailed("The changes were not saved.", problems=unknown)
    return found


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class OrderTransitionApi(ApiMixin, generics.GenericAPIView):
    """POST one transition. If-Match is optional here; when sent it must match."""

    required_scope = Scope.ORDERS_WRITE
    if_match = {"POST": False}
    input_serializer = s.EmptyInput
    serializer_class = s.OrderDetailSerializer

    def perform(self, order: Order, data: dict, expected_version: frozenset[int] | None) -> None:
        """Call the transition's service; `expected_version` is what If-Match names."""
        raise NotImplementedError

    def post(self, request, number):
        data = _valid(self.input_serializer, request)
        order = get_object_or_404(Order, number=number)
        with if_match(request, required=self.if_match["POST"]) as versions:
            self.perform(order, data, versions)
        return _detail_response(request, self, number)


def _transition_schema(summary: str, input_serializer, example=None):
    return extend_schema(
        summary=summary,
        request=input_serializer,
        responses={200: s.OrderDetailSerializer},
        examples=[OpenApiExample("Example", value=example, request_only=True)] if example else [],
    )


REASON_EXAMPLE = {"reason_code": "data_mismatch", "reason_text": "Antenna count is wrong."}


class OrderApproveApi(OrderTransitionApi):
    @_transition_schema("Approve a DRAFT order", s.EmptyInput)
    def post(self, request, number):
        return super().post(request, number)

    def perform(self, order, data, expected_version):
        services.order_approve(order=order, actor=self.actor, expected_version=expected_version)


class OrderRejectApi(OrderTransitionApi):
    input_serializer = s.ReasonInput

    @_transition_schema(
        "Reject an order back to DRAFT, with a reason", s.ReasonInput, REASON_EXAMPLE
    )
    def post(self, request, number):
        return super().post(request, number)

    def perform(self, order, data, expected_version):
        services.order_reject(
            order=order, actor=self.actor, expected_version=expected_version, **data
        )


class OrderCancelApi(OrderTransitionApi):
    input_serializer = s.ReasonInput

    @_transition_schema(
        "Cancel an order not yet released, with a reason",
        s.ReasonInput,
        {"reason_code": "no_longer_needed", "reason_text": "Site dropped."},
    )
    def post(self, request, number):
        return super().post(request, number)

    def perform(self, order, data, expected_version):
        services.order_cancel(
            order=order, actor=self.actor, expected_version=expected_version, **data
        )


class OrderReopenApi(OrderTransitionApi):
    input_serializer = s.ReasonInput

    @_transition_schema(
        "Reopen a returned order to DRAFT, with a reason",
        s.ReasonInput,
        {"reason_code": "return_reopened", "reason_text": "Needs new radios."},
    )
    def post(self, request, number):
        return super().post(request, number)

    def perform(self, order, data, expected_version):
        services.order_reopen(
            order=order, actor=self.actor, expected_version=expected_version, **data
        )


class OrderReleaseApi(OrderTransitionApi):
    @_transition_schema("Release an ALLOCATED order to its warehouse", s.EmptyInput)
    def post(self, request, number):
        return super().post(request, number)

    def perform(self, order, data, expected_version):
        release_order(order=order, actor=self.actor, expected_version=expected_version)


class OrderResolveReturnApi(OrderTransitionApi):
    input_serializer = s.NoteInput

    @_transition_schema(
        "Accept a return as final: the order is CLOSED",
        s.NoteInput,
        {"note": "Damaged units written off."},
    )
    def post(self, request, number):
        return super().post(request, number)

    def perform(self, order, data, expected_version):
        services.order_resolve_close(
            order=order, actor=self.actor, note=data["note"], expected_version=expected_version
        )


class OrderTimelineApi(ApiMixin, generics.GenericAPIView):
    """The audit history of the order and its lines, newest first."""

    required_scope = Scope.ORDERS_READ
    serializer_class = s.TimelineEntrySerializer
    pagination_class = None
    queryset = Order.objects.none()

    @extend_schema(responses=s.TimelineEntrySerializer(many=True))
    def get(self, request, number):
        order = get_object_or_404(Order, number=number)
        entries = timeline.order_timeline(order)
        return Response(s.TimelineEntrySerializer(entries, many=True).data)


class OrderNoteListApi(ApiMixin, generics.ListCreateAPIView):
    """Notes on the order, newest first; POST adds one (notes are never changed)."""

    required_scope = Scope.ORDERS_READ
    method_scopes = {"POST": Scope.ORDERS_WRITE}
    serializer_class = s.OrderNoteSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OrderNote.objects.none()
        return get_object_or_404(Order, number=self.kwargs["number"]).notes.all()

    @extend_schema(
        summary="Add a note to an order",
        examples=[
            OpenApiExample(
                "Example", value={"text": "Site access only after 10:00."}, request_only=True
            )
        ],
    )
    def post(self, request, number):
        data = _valid(s.OrderNoteSerializer, request)
        order = get_object_or_404(Order, number=number)
        note = services.order_add_note(order=order, actor=self.actor, text=data["text"])
        return Response(s.OrderNoteSerializer(note).data, status=status.HTTP_201_CREATED)


class OrderRevisionListApi(ApiMixin, generics.ListAPIView):
    """Revisions from upstream and edits, newest first, each with its delta."""

    required_scope = Scope.ORDERS_READ
    serializer_class = s.OrderRevisionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OrderRevision.objects.none()
        order = get_object_or_404(Order, number=self.kwargs["number"])
        return selectors.order_revisions(order)


class ProjectViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """Projects (master data from the planning system)."""

    required_scope = Scope.ORDERS_READ
    method_scopes = {"POST": Scope.PLANNING_WRITE}
    serializer_class = s.ProjectSerializer
    filterset_class = ProjectFilter
    lookup_field = "external_id"
    lookup_url_kwarg = "project_id"
    lookup_value_regex = "[^/]+"
    # A list reports each bad project by itself (oms.api.parsers).
    per_record_text = True

    def get_queryset(self):
        return Project.objects.select_related("market__region").order_by("external_id")

    @extend_schema(
        summary="Create or update projects: one object, or a list of up to 1000",
        description="Each project is matched by `project_id`: new ones are created, "
        "changed ones updated (with history), the same data is `unchanged`. In a list, "
        "invalid projects are reported with their problems and the others still saved; "
        "a single invalid object is 422. Orders gated on a milestone that a project now "
        "reached are released.",
        request=s.PROJECT_UPSERT_REQUEST,
        responses={200: s.ProjectUpsertResultSerializer},
        examples=[
            OpenApiExample(
                "One project",
                value={
                    "project_id": "PRJ-10042",
                    "site_code": "NYC0042",
                    "name": "Midtown rooftop",
                    "market": "NYC",
                    "plan_type": "new_build",
                    "status": "active",
                    "latitude": 40.754932,
                    "longitude": -73.984016,
                    "site_acquired_on": "2026-01-12",
                    "design_complete_on": "2026-02-20",
                    "notice_to_proceed_on": None,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Outcome",
                value={
                    "results": [
                        {"project_id": "PRJ-10042", "outcome": "created", "problems": []},
                        {
                            "project_id": "PRJ-10043",
                            "outcome": "invalid",
                            "problems": [
                                {
                                    "code": "unknown",
                                    "field": "market",
                                    "message": "Unknown market 'XX'.",
                                }
                            ],
                        },
                    ],
                    "counts": {"created": 1, "modified": 0, "unchanged": 0, "invalid": 1},
                },
                response_only=True,
            ),
        ],
    )
    def create(self, request):
        data = request.data
        single = isinstance(data, dict)
        if single:
            _valid(s.ProjectInput, request)
        items = [data] if single else data
        if not isinstance(items, list) or not 1 <= len(items) <= s.MAX_PROJECTS_PER_REQUEST:
            raise ValidationError(
                f"Send one project object or a list of 1 to {s.MAX_PROJECTS_PER_REQUEST}."
            )
        result = project_import.upsert_projects(
            items, actor=self.actor, reason="planning API", batch_size=len(items)
        )
        if single and result.invalid:
            (outcome,) = result.invalid
            raise ValidationFailed(
                f"Project {outcome.project_id or '(no project_id)'} is not valid.",
                problems=outcome.problems,
            )
        results = [
            {
                "project_id": o.project_id,
                "outcome": o.outcome.value,
                "problems": [p.as_dict() for p in o.problems],
            }
            for o in result.outcomes
        ]
        return Response({"results": results, "counts": result.counts})
