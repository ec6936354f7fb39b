"""The warehouse integration: the releases sent to warehouse systems, every call made
to them and every callback they sent."""

import uuid

from django.db import models
from django.db.models import Q

from oms.actors import ActorKind
from warehouse.integration.choices import CallbackKind, CallOutcome, ReleaseStatus
from warehouse.ledger.models import Warehouse


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
