import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from oms.actors import ActorKind
from oms.models import AuditedHistory
from warehouse.choices import (
    CallbackKind,
    CallOutcome,
    Condition,
    MovementKind,
    ReleaseStatus,
    ReturnResolution,
)


class Warehouse(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    api_url = models.URLField(
        "warehouse system URL",
        blank=True,
        help_text="Where this warehouse's system takes release requests; empty: OMS_WAREHOUSE_URL.",
    )
    markets = models.ManyToManyField(
        "orders.Market", through="WarehouseMarket", related_name="warehouses"
    )
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class WarehouseMarket(models.Model):
    """A warehouse serves a market with a rank: rank 1 is asked first."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="served")
    market = models.ForeignKey("orders.Market", on_delete=models.PROTECT, related_name="served_by")
    rank = models.PositiveSmallIntegerField(default=1)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["market", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "market"], name="warehousemarket_unique"),
            models.UniqueConstraint(fields=["market", "rank"], name="warehousemarket_unique_rank"),
            models.CheckConstraint(name="warehousemarket_rank_positive", condition=Q(rank__gte=1)),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse.code} serves {self.market.code} (rank {self.rank})"


class StockLevel(models.Model):
    """Stock of one item in one warehouse. Available = on hand - reserved. Damaged
    returns are kept apart and are not on hand. Changed only through stock services,
    each change written as a StockMovement."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock")
    item = models.ForeignKey("catalog.Item", on_delete=models.PROTECT, related_name="stock")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    damaged = models.IntegerField(default=0)
    minimum_level = models.IntegerField(default=0)
    below_minimum = models.BooleanField(
        default=False,
        editable=False,
        help_text="Available is below the minimum level. Set when available stock crosses "
        "below it (a stock.below_minimum event is published then), cleared when it is back.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    # The counters are explained by the ledger (StockMovement); the history records who
    # changed the minimum level, and why.
    history = HistoricalRecords(
        bases=[AuditedHistory],
        excluded_fields=["on_hand", "reserved", "damaged", "below_minimum", "updated_at"],
    )

    class Meta:
        ordering = ["warehouse", "item"]
        permissions = [("adjust_stock", "Can receive and adjust stock")]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "item"], name="stocklevel_unique"),
            models.CheckConstraint(name="stock_on_hand_nonnegative", condition=Q(on_hand__gte=0)),
            models.CheckConstraint(name="stock_reserved_nonnegative", condition=Q(reserved__gte=0)),
            models.CheckConstraint(
                name="stock_reserved_within_on_hand", condition=Q(reserved__lte=F("on_hand"))
            ),
            models.CheckConstraint(name="stock_damaged_nonnegative", condition=Q(damaged__gte=0)),
            models.CheckConstraint(
                name="stock_minimum_nonnegative", condition=Q(minimum_level__gte=0)
            ),
        ]
        indexes = [models.Index(fields=["item", "warehouse"], name="stock_item_idx")]

    def __str__(self) -> str:
        return f"{self.item.code} @ {self.warehouse.code}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """One line of the inventory ledger. See MOVEMENT_EFFECTS for what each kind does."""

    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    quantity = models.IntegerField(help_text="Positive; an adjustment may be negative.")
    # Indexed by movement_stock_idx, which starts with the warehouse.
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    item = models.ForeignKey("catalog.Item", on_delete=models.PROTECT, related_name="movements")
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_movements",
        help_text="The order the stock moved for; kept when its line is later removed.",
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="movements",
    )
    reason = models.CharField(max_length=200, blank=True)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_name = models.CharField(max_length=150)
    # Not indexed: the ledger is read by stock level and by order, never by user, and
    # every index costs each of the hundreds of thousands of rows an allocation run
    # writes. (People are deactivated, not deleted.)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="movement_quantity_sign",
                condition=(
                    Q(kind=MovementKind.ADJUSTMENT) & ~Q(quantity=0)
                    | ~Q(kind=MovementKind.ADJUSTMENT) & Q(quantity__gt=0)
                ),
                violation_error_message="Only adjustments may be negative; no movement is 0.",
            ),
            models.CheckConstraint(
                name="movement_kind_valid", condition=Q(kind__in=MovementKind.values)
            ),
        ]
        indexes = [
            models.Index(fields=["warehouse", "item", "-created_at"], name="movement_stock_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} {self.item_id}@{self.warehouse_id}"


class Release(models.Model):
    """The request to one warehouse to pick and ship an order's allocated stock.

    `status` is what the warehouse answered (requested until it does). Delivery of the
    request is tracked apart from it: `sent_at` is when the warehouse system first
    acknowledged the request, `attempts`, `last_error` and `next_attempt_at` tell how
    delivery goes (warehouse.delivery puts it in words), and `delivery_failed_at` marks a
    request OMS stopped retrying (a person sends it again).
    A request acknowledged but not answered is asked about again (`asks`,
    `last_asked_at`); `unanswered_at` marks one OMS stopped asking about (a person
    follows it up).
    """

    release_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="releases")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="releases")
    status = models.CharField(
        max_length=16, choices=ReleaseStatus.choices, default=ReleaseStatus.REQUESTED
    )
    lines = models.JSONField(
        default=list, blank=True, help_text='What was asked for: [{"item": code, "quantity": n}].'
    )
    shipped = models.JSONField(
        default=dict, blank=True, help_text="What the warehouse shipped: {item code: quantity}."
    )
    reason = models.CharField(
        max_length=500, blank=True, help_text="Why the warehouse rejected the release."
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Calls made to deliver it.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When OMS tries again to deliver a request whose last attempt failed.",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery_failed_at = models.DateTimeField(null=True, blank=True)
    asks = models.PositiveIntegerField(
        default=0, help_text="Times OMS asked the warehouse again for its answer."
    )
    last_asked_at = models.DateTimeField(null=True, blank=True)
    unanswered_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When OMS stopped asking for an answer and left the release to a person.",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was completed or rejected."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="release_status_valid", condition=Q(status__in=ReleaseStatus.values)
            ),
        ]
        indexes = [
            models.Index(fields=["order", "status"], name="release_order_idx"),
            # The newest change of any release, read by the queue's live updates.
            models.Index(fields=["-updated_at"], name="release_updated_idx"),
            models.Index(
                fields=["last_attempt_at"],
                name="release_unsent_idx",
                condition=Q(status="requested", sent_at__isnull=True),
            ),
            models.Index(
                fields=["sent_at"],
                name="release_awaiting_answer_idx",
                condition=Q(status="requested", sent_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Release {self.release_id} of {self.order_id} at {self.warehouse_id}"

    @property
    def is_waiting_for_delivery(self) -> bool:
        return self.status == ReleaseStatus.REQUESTED and self.sent_at is None

    @property
    def is_waiting_for_answer(self) -> bool:
        return self.status == ReleaseStatus.REQUESTED and self.sent_at is not None

    @property
    def is_unanswered(self) -> bool:
        """OMS stopped asking the warehouse for an answer: a person follows it up."""
        return self.is_waiting_for_answer and self.unanswered_at is not None

    @property
    def can_be_sent_again(self) -> bool:
        return (
            self.is_waiting_for_delivery and self.delivery_failed_at is not None
        ) or self.is_unanswered


class WarehouseCall(models.Model):
    """One call OMS made to a warehouse system, whatever came of it."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="calls")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="calls")
    attempt = models.PositiveIntegerField()
    method = models.CharField(max_length=8)
    url = models.CharField(max_length=500)
    request_summary = models.CharField(max_length=200)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=CallOutcome.choices)
    error = models.CharField(max_length=500, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["release", "created_at"], name="warehousecall_release_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status_code or self.error}"


class WarehouseCallback(models.Model):
    """A callback from the warehouse system, kept by its event id: the same event sent
    again gets the first answer and has no further effect."""

    event_id = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=CallbackKind.choices)
    payload = models.JSONField(help_text="The callback as received (validated).")
    fingerprint = models.CharField(max_length=64, help_text="Digest of the callback's content.")
    release = models.ForeignKey(
        Release, on_delete=models.PROTECT, null=True, blank=True, related_name="callbacks"
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="warehouse_callbacks",
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, null=True, blank=True, related_name="callbacks"
    )
    outcome = models.CharField(max_length=200, help_text="What the callback did.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_name = models.CharField(max_length=150)
    correlation_id = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="warehousecallback_kind_valid", condition=Q(kind__in=CallbackKind.values)
            ),
        ]
        indexes = [models.Index(fields=["order", "received_at"], name="callback_order_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"


class Return(models.Model):
    """Material coming back to a warehouse for an order."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="returns")
    external_id = models.CharField(
        max_length=100, null=True, blank=True, unique=True, help_text="The warehouse's event id."
    )
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_name = models.CharField(max_length=150)
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # How a coordinator resolved the return (blank while it waits in the returns queue).
    resolution = models.CharField(max_length=16, choices=ReturnResolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by_name = models.CharField(
        max_length=150, blank=True, help_text="The actor who resolved it (a person or a client)."
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = models.TextField(blank=True)
    replacement_order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces_returns",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="return_resolution_valid",
                condition=Q(resolution="") | Q(resolution__in=ReturnResolution.values),
            ),
            models.CheckConstraint(
                name="return_resolved_when_and_by_whom",
                condition=Q(resolution="", resolved_at__isnull=True)
                | (~Q(resolution="") & Q(resolved_at__isnull=False) & ~Q(resolved_by_name="")),
                violation_error_message="A resolved return says when and by whom.",
            ),
            models.CheckConstraint(
                name="return_replacement_has_order",
                condition=Q(resolution=ReturnResolution.REPLACED, replacement_order__isnull=False)
                | (~Q(resolution=ReturnResolution.REPLACED) & Q(replacement_order__isnull=True)),
                violation_error_message="A return is replaced by exactly one replacement order.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["order"], name="return_unresolved_idx", condition=Q(resolution="")
            ),
        ]

    def __str__(self) -> str:
        return f"Return #{self.pk} for order {self.order_id}"

    @property
    def is_resolved(self) -> bool:
        return bool(self.resolution)


class ReturnLine(models.Model):
    return_record = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="return_lines"
    )
    quantity = models.PositiveIntegerField()
    condition = models.CharField(max_length=16, choices=Condition.choices)
    reason = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="returnline_quantity_positive", condition=Q(quantity__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_line_id} ({self.condition})"
