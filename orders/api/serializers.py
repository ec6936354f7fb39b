from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from oms.api.json_types import (
    StrictCharField,
    StrictChoiceField,
    StrictDateField,
    StrictIntegerField,
    StrictNumberField,
)
from oms.api.schema import FieldErrorSerializer
from orders.choices import Milestone, PlanType, ProjectStatus, ReasonCode, TimelineKind
from orders.models import Order, OrderLine, OrderNote, OrderRevision, Project
from orders.project_import import Outcome
from orders.services import allowed_transitions

# The transitions a caller can ask for through the API, with the endpoint of each.
API_TRANSITIONS = {
    "approve": "approve",
    "reject": "reject",
    "cancel": "cancel",
    "release": "release",
    "resolve_close": "resolve-return",
    "reopen": "reopen",
}


class ProjectRefSerializer(serializers.ModelSerializer):
    project_id = serializers.CharField(source="external_id")
    market = serializers.CharField(source="market.code")
    region = serializers.CharField(source="market.region.code")

    class Meta:
        model = Project
        fields = ["project_id", "site_code", "name", "market", "region", "status"]


class ProjectSerializer(ProjectRefSerializer):
    milestones = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            *ProjectRefSerializer.Meta.fields,
            "plan_type",
            "latitude",
            "longitude",
            "milestones",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {"type": "string", "format": "date", "nullable": True},
        }
    )
    def get_milestones(self, project) -> dict:
        return {m.value.removesuffix("_on"): project.milestone_date(m) for m in Milestone}


class OrderListSerializer(serializers.ModelSerializer):
    project = ProjectRefSerializer(read_only=True)
    assignee = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The username of the coordinator who looks after the order, or null.",
    )

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "order_type",
            "kind",
            "plan_type",
            "national_priority",
            "need_by",
            "gated",
            "gate_reason",
            "revision",
            "version",
            "project",
            "reason_code",
            "updated_at",
            "assignee",
        ]


class OrderRowSerializer(OrderListSerializer):
    """The same shape as OrderListSerializer, built from plain value rows (see
    selectors.order_rows) rather than model instances: the list is the busiest read."""

    PLAIN = [
        f
        for f in OrderListSerializer.Meta.fields
        if f not in {"project", "need_by", "updated_at", "assignee"}
    ]
    PROJECT = {
        "project_id": "project__external_id",
        "site_code": "project__site_code",
        "name": "project__name",
        "market": "project__market__code",
        "region": "project__market__region__code",
        "status": "project__status",
    }
    COLUMNS = [*PLAIN, "need_by", "updated_at", "assignee__username", *PROJECT.values()]

    def to_representation(self, row):
        data = {name: row[name] for name in self.PLAIN}
        data["need_by"] = row["need_by"].isoformat()
        data["updated_at"] = self.fields["updated_at"].to_representation(row["updated_at"])
        data["project"] = {key: row[column] for key, column in self.PROJECT.items()}
        data["assignee"] = row["assignee__username"]
        return data


class OrderLineSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code")
    description = serializers.CharField(source="item.description")
    unit = serializers.CharField(source="item.unit")
    kit = serializers.CharField(source="kit.code", allow_null=True, default=None)
    replaces_item = serializers.CharField(
        source="replaces_item.code", allow_null=True, default=None
    )
    outstanding_quantity = serializers.IntegerField()

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "item",
            "description",
            "unit",
            "quantity",
            "source",
            "kit",
            "replaces_item",
            "allocated_quantity",
            "released_quantity",
            "returned_quantity",
            "outstanding_quantity",
        ]


class OrderRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["number", "status", "kind"]


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    text = serializers.CharField()


class OrderDetailSerializer(OrderListSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    parent = OrderRefSerializer(read_only=True, allow_null=True)
    children = OrderRefSerializer(many=True, read_only=True)
    reason = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            *OrderListSerializer.Meta.fields,
            "reason",
            "parent",
            "children",
            "lines",
            "allowed_transitions",
            "correlation_id",
            "created_at",
            "status_changed_at",
            "approved_at",
        ]

    @extend_schema_field(ReasonSerializer(allow_null=True))
    def get_reason(self, order):
        if not order.reason_code:
            return None
        return {
            "code": order.reason_code,
            "label": ReasonCode(order.reason_code).label,
            "text": order.reason_text,
        }

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_transitions(self, order) -> list[str]:
        """The transitions this caller may make now, by endpoint name."""
        actor = self.context["actor"]
        allowed = [API_TRANSITIONS[name] for name in allowed_transitions(order, actor)]
        if order.status == "draft" and actor.has_perm("orders.enrich_order"):
            allowed.append("edit-lines")
        return allowed


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class TimelineEntrySerializer(serializers.Serializer):
    when = serializers.DateTimeField()
    subject = serializers.CharField()
    action = serializers.CharField()
    actor_kind = serializers.CharField()
    actor_name = serializers.CharField()
    reason = serializers.CharField()
    correlation_id = serializers.CharField()
    changes = FieldChangeSerializer(many=True)
    kind = serializers.ChoiceField(
        choices=TimelineKind.choices,
        help_text="history: a change to the order or a line; warehouse_call: a call OMS made "
        "to a warehouse system; release_event: what happened to a release; note: a note on "
        "the order.",
    )
    detail = serializers.CharField(
        help_text="For calls and release events: the particulars; for a note: its text."
    )


class OrderRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderRevision
        fields = [
            "number",
            "source",
            "event_id",
            "delta",
            "actor_kind",
            "actor_name",
            "correlation_id",
            "created_at",
        ]


# --- Input ------------------------------------------------------------------------------


class ReasonInput(serializers.Serializer):
    reason_code = StrictChoiceField(choices=ReasonCode.choices)
    reason_text = StrictCharField(max_length=2000)


class OrderNoteSerializer(serializers.ModelSerializer):
    text = StrictCharField(max_length=OrderNote.MAX_LENGTH)

    class Meta:
        model = OrderNote
        fields = ["id", "text", "actor_kind", "actor_name", "correlation_id", "created_at"]
        read_only_fields = ["id", "actor_kind", "actor_name", "correlation_id", "created_at"]


class NoteInput(serializers.Serializer):
    note = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class EmptyInput(serializers.Serializer):
    pass


ID_RANGE = {"min_value": 1, "max_value": 2**63 - 1}


class LineQuantityInput(serializers.Serializer):
    line = StrictIntegerField(help_text="The line id.", **ID_RANGE)
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000)


class LineAddInput(serializers.Serializer):
    item = StrictCharField(max_length=40, help_text="The item code (an unknown one is 422).")
    quantity = StrictIntegerField(min_value=1, max_value=1_000_000)


class KitAddInput(serializers.Serializer):
    kit = StrictCharField(max_length=40, help_text="The kit code (an unknown one is 422).")
    quantity = StrictIntegerField(min_value=1, max_value=10_000, help_text="How many kits.")


class LineEditsInput(serializers.Serializer):
    """Changes to a DRAFT order's lines, need-by date and priority, applied together or
    not at all. With none, the order is left as it is."""

    update = LineQuantityInput(many=True, required=False, default=list)
    add = LineAddInput(many=True, required=False, default=list)
    remove = serializers.ListField(
        child=StrictIntegerField(**ID_RANGE),
        required=False,
        default=list,
        help_text="Line ids.",
    )
    kits = KitAddInput(
        many=True,
        required=False,
        default=list,
        help_text="Kits expanded into lines (the version in effect today, times quantity).",
    )
    need_by = serializers.DateField(required=False, help_text="Not before today.")
    national_priority = StrictIntegerField(min_value=1, max_value=5, required=False)
    reason = StrictCharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the need-by date or priority changes (required with either).",
    )


# --- Project master data from the planning system ---------------------------------------

MAX_PROJECTS_PER_REQUEST = 1000
_OPTIONAL = {"required": False, "allow_null": True}


def _coordinate_field(limit: int, **kwargs):
    """A JSON number within ±limit, stored rounded to 6 decimal places."""
    return StrictNumberField(min_value=-limit, max_value=limit, **_OPTIONAL, **kwargs)


class ProjectInput(serializers.Serializer):
    """One project as the planning system sends it (the columns of its files). A key
    left out keeps the stored value; null or "" clears an optional one. Keys not listed
    here are ignored. Sent alone, a project with a wrong type, length or choice is 400;
    one that breaks a rule (unknown market, milestones out of order, ...) is 422."""

    project_id = StrictCharField(max_length=40, help_text="The planning system's key.")
    site_code = StrictCharField(max_length=40)
    market = StrictCharField(max_length=20, help_text="A market code.")
    plan_type = StrictChoiceField(choices=PlanType.choices)
    name = StrictCharField(max_length=200, allow_blank=True, **_OPTIONAL)
    region = StrictCharField(
        max_length=20, help_text="If given, the market's region code.", **_OPTIONAL
    )
    status = StrictChoiceField(
        choices=ProjectStatus.choices, help_text="New projects are active by default.", **_OPTIONAL
    )
    latitude = _coordinate_field(90, help_text="Give both coordinates or neither.")
    longitude = _coordinate_field(180)
    site_acquired_on = StrictDateField(**_OPTIONAL)
    design_complete_on = StrictDateField(**_OPTIONAL)
    permits_approved_on = StrictDateField(**_OPTIONAL)
    notice_to_proceed_on = StrictDateField(
        help_text="Each milestone reached is on or after the ones before it.", **_OPTIONAL
    )
    construction_start_on = StrictDateField(**_OPTIONAL)
    on_air_on = StrictDateField(**_OPTIONAL)


class ProjectListInput(serializers.Serializer):
    """1 to 1000 projects, each an object read as ProjectInput. An invalid one is
    reported in the results with its problems, and the others are saved."""


class ProjectListInputSchema(OpenApiSerializerExtension):
    target_class = ProjectListInput

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "array",
            "items": {"type": "object"},
            "minItems": 1,
            "maxItems": MAX_PROJECTS_PER_REQUEST,
        }


PROJECT_UPSERT_REQUEST = PolymorphicProxySerializer(
    component_name="ProjectUpsertRequest",
    serializers=[
        ProjectInput,
        ProjectListInput,
    ],
    resource_type_field_name=None,
    many=False,
)


class ProjectUpsertOutcomeSerializer(serializers.Serializer):
    project_id = serializers.CharField(help_text="As sent; empty if none was.")
    outcome = serializers.ChoiceField(choices=[o.value for o in Outcome])
    problems = FieldErrorSerializer(many=True, help_text="Why the project is invalid.")


class ProjectUpsertCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    modified = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    invalid = serializers.IntegerField()


class ProjectUpsertResultSerializer(serializers.Serializer):
    results = ProjectUpsertOutcomeSerializer(many=True, help_text="In the order sent.")
    counts = ProjectUpsertCountsSerializer()
