from django.db import models
from django.db.models import Q


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
        "warehouse.StockLevel", on_delete=models.PROTECT, related_name="allocations"
    )
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
