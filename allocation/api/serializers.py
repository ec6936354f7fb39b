from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from allocation.models import AllocationOutcome, AllocationRun
from oms.api.json_types import StrictBooleanField
from oms.api.schema import ProblemSerializer

# The run detail lists this many blocking items (the back office shows them all).
BLOCKING_IN_DETAIL = 50


class AllocationCountsSerializer(serializers.Serializer):
    eligible = serializers.IntegerField(help_text="Approved and not gated.")
    allocated = serializers.IntegerField()
    short = serializers.IntegerField(help_text="Not enough stock: they wait, still approved.")
    rejected = serializers.IntegerField(help_text="Configuration mismatch: back to draft.")
    gated = serializers.IntegerField(help_text="Approved but gated: not allocated yet.")
    changed = serializers.IntegerField(help_text="Changed during the run; left to the next.")


class RequestedBySerializer(serializers.Serializer):
    kind = serializers.CharField(source="requested_by_kind")
    name = serializers.CharField(source="requested_by_name")


class AllocationRunSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    outcomes_url = serializers.SerializerMethodField()
    requested_by = RequestedBySerializer(source="*")
    counts = AllocationCountsSerializer(source="*")
    duration_seconds = serializers.FloatField(allow_null=True)

    class Meta:
        model = AllocationRun
        fields = [
            "id",
            "url",
            "status",
            "dry_run",
            "trigger",
            "split",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "counts",
            "units_reserved",
            "error",
            "outcomes_url",
        ]

    def get_url(self, run) -> str:
        return reverse("api:allocation-run-detail", args=[run.pk], request=self.context["request"])

    def get_outcomes_url(self, run) -> str:
        return reverse(
            "api:allocation-run-outcomes", args=[run.pk], request=self.context["request"]
        )


class BlockingItemSerializer(serializers.Serializer):
    item = serializers.CharField()
    description = serializers.CharField()
    orders = serializers.IntegerField(help_text="Orders short of the item.")
    needed = serializers.IntegerField(help_text="Units those orders need of it.")
    available = serializers.IntegerField(help_text="Units left in the warehouses serving them.")
    units_to_unblock = serializers.IntegerField(
        help_text="Units more that would end the shortage of this item for those orders."
    )


class AllocationRankingSerializer(serializers.Serializer):
    criteria = serializers.ListField(child=serializers.CharField())
    plan_type_ranks = serializers.DictField(child=serializers.IntegerField())
    order_type_ranks = serializers.DictField(child=serializers.IntegerField())


class AllocationRunDetailSerializer(AllocationRunSerializer):
    ranking = serializers.SerializerMethodField(
        help_text="The ranking the run used (null until it has started)."
    )
    blocking = serializers.SerializerMethodField(
        help_text=f"The items that kept the most orders short (at most {BLOCKING_IN_DETAIL})."
    )

    class Meta(AllocationRunSerializer.Meta):
        fields = [*AllocationRunSerializer.Meta.fields, "ranking", "blocking"]

    @extend_schema_field(AllocationRankingSerializer(allow_null=True))
    def get_ranking(self, run) -> dict | None:
        return run.ranking or None

    @extend_schema_field(BlockingItemSerializer(many=True))
    def get_blocking(self, run) -> list:
        return run.blocking[:BLOCKING_IN_DETAIL]


class AllocationOutcomeSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    warehouses = serializers.SerializerMethodField()
    explanation = serializers.JSONField(
        help_text="allocated: warehouses and units; short: per line needed, best_available "
        "and where (and, without split, what each serving warehouse lacks); rejected: the "
        "problems; gated: the gate."
    )

    class Meta:
        model = AllocationOutcome
        fields = ["order", "rank", "result", "reason_code", "warehouses", "units", "explanation"]

    def get_warehouses(self, outcome) -> list[str]:
        return [code for code in outcome.warehouses.split(", ") if code]


class AllocationRunInput(serializers.Serializer):
    dry_run = StrictBooleanField(
        default=False, help_text="Compute and report everything, change nothing."
    )


class AllocationRunRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    url = serializers.CharField()


class AllocationRunInProgressSerializer(ProblemSerializer):
    run = AllocationRunRefSerializer(
        required=False,
        help_text="The run that is queued or running (absent when the "
        "conflict is an Idempotency-Key in use).",
    )
