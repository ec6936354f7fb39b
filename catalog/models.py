from typing import Any

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from catalog.choices import ItemCategory, ItemLifecycle, Unit
from oms.errors import DomainError
from oms.models import AuditedHistory


class KitVersionLive(DomainError):
    code = "kit_version_live"


class Item(models.Model):
    code = models.CharField(max_length=40, unique=True)
    description = models.CharField(max_length=200)
    unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.EACH)
    category = models.CharField(max_length=20, choices=ItemCategory.choices)
    lifecycle = models.CharField(
        max_length=16, choices=ItemLifecycle.choices, default=ItemLifecycle.ACTIVE
    )
    replaced_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
        help_text="The successor of a replaced item.",
    )
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="item_replaced_has_successor",
                condition=(
                    Q(lifecycle=ItemLifecycle.REPLACED, replaced_by__isnull=False)
                    | (~Q(lifecycle=ItemLifecycle.REPLACED) & Q(replaced_by__isnull=True))
                ),
                violation_error_message="A replaced item names its successor, and only then.",
            ),
            models.CheckConstraint(
                name="item_not_replaced_by_itself", condition=~Q(replaced_by=models.F("id"))
            ),
        ]
        indexes = [models.Index(fields=["category", "lifecycle"], name="item_category_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    @property
    def is_active(self) -> bool:
        return self.lifecycle == ItemLifecycle.ACTIVE


class Kit(models.Model):
    """A named bill of material, such as a sector kit, that expands into items."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class KitVersion(models.Model):
    """One version of a kit. A draft can be edited; once published it is live and
    immutable: changing a kit means drafting and publishing a new version."""

    kit = models.ForeignKey(Kit, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    effective_from = models.DateField()
    effective_to = models.DateField(
        null=True, blank=True, help_text="Set when a later version takes over."
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    notes = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["kit", "number"]
        constraints = [
            models.UniqueConstraint(fields=["kit", "number"], name="kitversion_unique_number"),
            models.CheckConstraint(
                name="kitversion_effective_range",
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gt=models.F("effective_from")),
                violation_error_message="A version ends after it starts.",
            ),
            models.CheckConstraint(name="kitversion_number_positive", condition=Q(number__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.kit.code} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk:
            stored = KitVersion.objects.filter(pk=self.pk).values(*LIVE_FROZEN_FIELDS).first()
            if stored and stored["published_at"] is not None:
                changed = [f for f in LIVE_FROZEN_FIELDS if stored[f] != getattr(self, f)]
                if changed:
                    raise KitVersionLive(
                        f"{self} is live; {', '.join(changed)} cannot change. "
                        "Draft a new version instead."
                    )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.is_live:
            raise KitVersionLive(f"{self} is live and cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_live(self) -> bool:
        return self.published_at is not None


# Once a version is published these never change; only effective_to may still be set
# when a later version takes over.
LIVE_FROZEN_FIELDS = ("kit_id", "number", "effective_from", "published_at")


class KitComponent(models.Model):
    """One item of a kit version with its quantity."""

    kit_version = models.ForeignKey(KitVersion, on_delete=models.CASCADE, related_name="components")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="kit_components")
    quantity = models.PositiveIntegerField()
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["kit_version", "item__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["kit_version", "item"], name="kitcomponent_unique_item"
            ),
            models.CheckConstraint(
                name="kitcomponent_quantity_positive", condition=Q(quantity__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.item.code}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_live()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self._refuse_if_live()
        return super().delete(*args, **kwargs)

    def _refuse_if_live(self) -> None:
        if KitVersion.objects.filter(pk=self.kit_version_id, published_at__isnull=False).exists():
            raise KitVersionLive(
                f"Components of live version {self.kit_version} cannot change. "
                "Draft a new version instead."
            )
