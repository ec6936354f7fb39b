from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from allocation.choices import ACTIVE_STATUSES, Criterion, Result, RunStatus, Trigger
from oms.actors import ActorKind
from oms.models import AuditedHistory
from orders.choices import OrderType, PlanType, ReasonCode

# --- Ranking ----------------------------------------------------------------------------


class RankingConfig(models.Model):
    """How the allocation engine ranks approved orders: the criteria in order, and the
    rank of each plan type and order type. There is one configuration (id 1), edited in
    the admin; every run records the ranking it used."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = "ranking configuration"
        constraints = [models.CheckConstraint(name="rankingconfig_single", condition=Q(id=1))]

    def __str__(self) -> str:
        return "Allocation ranking"


class RankingCriterion(models.Model):
    """One criterion of the ranking; lower positions are compared first."""

    config = models.ForeignKey(RankingConfig, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField()
    criterion = models.CharField(max_length=32, choices=Criterion.choices)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["config", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["config", "criterion"], name="rankingcriterion_unique_criterion"
            ),
            models.UniqueConstraint(
                fields=["config", "position"], name="rankingcriterion_unique_position"
            ),
            models.CheckConstraint(
                name="rankingcriterion_known", condition=Q(criterion__in=Criterion.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_criterion_display()}"


class PlanTypeRank(models.Model):
    """The rank of a plan type: 1 is served first; equal ranks tie."""

    config = models.ForeignKey(
        RankingConfig, on_delete=models.CASCADE, related_name="plan_type_ranks"
    )
    plan_type = models.CharField(max_length=20, choices=PlanType.choices)
    rank = models.PositiveSmallIntegerField()
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["config", "rank", "plan_type"]
        constraints = [
            models.UniqueConstraint(fields=["config", "plan_type"], name="plantyperank_unique"),
            models.CheckConstraint(name="plantyperank_rank_positive", condition=Q(rank__gte=1)),
        ]

    def __str__(self) -> str:
        return f"{self.get_plan_type_display()}: {self.rank}"


class OrderTypeRank(models.Model):
    """The rank of an order type: 1 is served first; equal ranks tie."""

    config = models.ForeignKey(
        RankingConfig, on_delete=models.CASCADE, related_name="order_type_ranks"
    )
    order_type = models.CharField(max_length=20, choices=OrderType.choices)
    rank = models.PositiveSmallIntegerField()
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["config", "rank", "order_type"]
        constraints = [
            models.UniqueConstraint(fields=["config", "order_type"], name="ordertyperank_unique"),
            models.CheckConstraint(name="ordertyperank_rank_positive", condition=Q(rank__gte=1)),
        ]

    def __str__(self) -> str:
        return f"{self.get_order_type_display()}: {self.rank}"


# --- Runs -------------------------------------------------------------------------------


class AllocationRun(models.Model):
    """One pass of the allocation engine over the approved orders, with its counts and
    (in `outcomes`) what it did with each order and why. A dry run is recorded the same
    way and changes nothing else.

    At most one run is queued or running at any time: `active` is set while it is, and
    is unique."""

    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    active = models.BooleanField(null=True, default=True, editable=False)
    dry_run = models.BooleanField(default=False)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    split = models.BooleanField(
        default=False, help_text="Whether orders could be split across warehouses."
    )
    requested_by_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    requested_by_name = models.CharField(max_length=150)
    correlation_id = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    eligible = models.PositiveIntegerField(default=0, help_text="Approved and not gated.")
    allocated = models.PositiveIntegerField(default=0)
    short = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    gated = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(
        default=0, help_text="Orders that changed while the run worked; the next run takes them."
    )
    units_reserved = models.PositiveBigIntegerField(default=0)
    ranking = models.JSONField(default=dict, blank=True, help_text="The ranking this run used.")
    blocking = models.JSONField(
        default=list, blank=True, help_text="Items that kept orders short, most orders first."
    )
    error = models.TextField(blank=True)
    outcomes_pruned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its outcomes were removed (OMS_ALLOCATION_KEEP_DAYS).",
    )
    job_run = models.ForeignKey(
        "oms.JobRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [("run_allocation", "Can start allocation runs and dry runs")]
        constraints = [
            models.UniqueConstraint(fields=["active"], name="allocationrun_one_active"),
            models.CheckConstraint(
                name="allocationrun_active_matches_status",
                condition=Q(active=True, status__in=ACTIVE_STATUSES)
                | Q(active__isnull=True) & ~Q(status__in=ACTIVE_STATUSES),
            ),
            models.CheckConstraint(
                name="allocationrun_status_valid", condition=Q(status__in=RunStatus.values)
            ),
        ]
        indexes = [models.Index(fields=["-requested_at"], name="allocationrun_requested_idx")]

    def __str__(self) -> str:
        return f"{'Dry run' if self.dry_run else 'Allocation run'} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class AllocationOutcome(models.Model):
    """What one run did with one approved order, and why (`explanation`):

    - allocated: {"warehouses": [code], "units": n}
    - short: {"lines": [{"item", "needed", "best_available", "where"}], "warehouses":
      [{"warehouse", "missing": [{"item", "needed", "available"}]}]} (lines that no
      serving warehouse can fill; without split, what each serving warehouse lacks)
    - rejected: {"problems": [{"code", "item", "message"}]}
    - gated: {"gate": reason}; changed: {"message": ...}
    """

    run = models.ForeignKey(AllocationRun, on_delete=models.CASCADE, related_name="outcomes")
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="allocation_outcomes"
    )
    rank = models.PositiveIntegerField(
        null=True, blank=True, help_text="Place in the ranking (1 first); none when gated."
    )
    result = models.CharField(max_length=16, choices=Result.choices)
    reason_code = models.CharField(max_length=32, choices=ReasonCode.choices, blank=True)
    warehouses = models.CharField(max_length=200, blank=True)
    units = models.PositiveIntegerField(default=0)
    blocked_by = models.TextField(
        blank=True, help_text="The codes of the items the order is short of, space-separated."
    )
    explanation = models.JSONField(default=dict)

    class Meta:
        ordering = ["run", "rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "order"], name="allocationoutcome_unique"),
            models.CheckConstraint(
                name="allocationoutcome_result_valid", condition=Q(result__in=Result.values)
            ),
        ]
        indexes = [
            models.Index(fields=["run", "result", "rank"], name="allocationoutcome_result_idx"),
            models.Index(fields=["order", "-run"], name="allocationoutcome_order_idx"),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id}: order {self.order_id} {self.result}"
