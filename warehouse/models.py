import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from oms.actors import ActorKind
from oms.models import AuditedHistory
from warehouse.choices import Condition, MovementKind, ReleaseStatus


class Warehouse(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
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
    updated_at = models.DateTimeField(auto_now=True)

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
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements")
    item = models.ForeignKey("catalog.Item", on_delete=models.PROTECT, related_name="movements")
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements",
    )
    reason = models.CharField(max_length=200, blank=True)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_name = models.CharField(max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
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
            models.Index(fields=["order_line"], name="movement_order_line_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} {self.item_id}@{self.warehouse_id}"


class Release(models.Model):
    """The request to one warehouse to pick and ship an order's allocated stock."""

    release_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="releases")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="releases")
    status = models.CharField(
        max_length=16, choices=ReleaseStatus.choices, default=ReleaseStatus.REQUESTED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["order", "status"], name="release_order_idx")]

    def __str__(self) -> str:
        return f"Release {self.release_id} of {self.order_id} at {self.warehouse_id}"


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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Return #{self.pk} for order {self.order_id}"


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
