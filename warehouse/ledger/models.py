"""The stock ledger: warehouses, their stock levels, every movement that changed a level,
the reservations (allocations) that hold stock for order lines, and returns."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from oms.actors import ActorKind
from oms.models import AuditedHistory
from warehouse.ledger.choices import Condition, MovementKind, ReturnResolution


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


class Allocation(models.Model):
    """Stock of one item in one warehouse reserved for one order line. While ACTIVE it
    is part of its stock level's `reserved`; issuing or releasing it ends it."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ISSUED = "issued", "Issued"
        UNRESERVED = "unreserved", "Given back to stock"

    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="allocations"
    )
    stock_level = models.ForeignKey(
        StockLevel, on_delete=models.PROTECT, related_name="allocations"
    )
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "allocation_allocation"
        ordering = ["order_line", "stock_level"]
        constraints = [
            models.CheckConstraint(
                name="allocation_quantity_positive", condition=Q(quantity__gt=0)
            ),
            models.UniqueConstraint(
                fields=["order_line", "stock_level"],
                condition=Q(status="active"),
                name="allocation_one_active_per_stock",
            ),
        ]
        indexes = [
            models.Index(
                fields=["stock_level"], name="allocation_active_idx", condition=Q(status="active")
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.stock_level} for line {self.order_line_id}"


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
