"""Cross-cutting tables: the audit base of every history table, the outbox, job runs,
and named counters for human-readable numbers."""

from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from oms.actors import ActorKind


class AuditedHistory(models.Model):
    """Extra columns on every historical table: which kind of actor, who, and the
    correlation id of the request or job that made the change."""

    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_name = models.CharField(max_length=150)
    correlation_id = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        abstract = True


class HistoryByObject(HistoricalRecords):
    """History for the tables that ingestion and allocation runs write in bulk (orders,
    their lines, design events). Their history is read by object only (the order page,
    the admin), never by date, user or a prefix of the correlation id, and every index
    slows each of the hundreds of thousands of rows such a run writes. So it keeps the
    indexes of the fields not named in `no_db_index` (the object's id among them), and
    one plain index on the correlation id; the history_date and history_user indexes and
    Django's pattern index on the correlation id are left out. (People are deactivated,
    not deleted, so nothing looks the user up.)

    simple-history's constructor has no option for this per table (the date index is
    the project-wide SIMPLE_HISTORY_DATE_INDEX, and history_user_id_field would turn
    the user's foreign key into a bare integer), so its public hooks that build the
    historical model adjust the fields and Meta it makes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(bases=[LeanAuditedHistory], **kwargs)

    def get_extra_fields(self, model: type[models.Model], fields: dict[str, Any]) -> dict[str, Any]:
        extra = super().get_extra_fields(model, fields)
        extra["history_date"].db_index = False
        extra["history_user"].db_index = False
        return extra

    def get_meta_options(self, model: type[models.Model]) -> dict[str, Any]:
        options = super().get_meta_options(model)
        # No index on the date, whatever the setting (a "composite" one comes from here);
        # a model with a correlation id of its own (an order) tracks that field as it is.
        options["indexes"] = []
        if not any(field.name == "correlation_id" for field in model._meta.fields):
            name = f"{model._meta.model_name}_hist_corr_idx"
            options["indexes"] = [models.Index(fields=["correlation_id"], name=name)]
        return options


class LeanAuditedHistory(AuditedHistory):
    """AuditedHistory with the correlation id unindexed by the field itself, for
    HistoryByObject, which indexes it once."""

    correlation_id = models.CharField(max_length=64, blank=True)

    class Meta:
        abstract = True


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it describes.

    A relay delivers pending events to subscribers and the warehouse; the id is the
    cursor of the event feed.
    """

    event_type = models.CharField(max_length=64)
    aggregate_type = models.CharField(max_length=32)
    aggregate_id = models.CharField(max_length=64)
    payload = models.JSONField()
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["aggregate_type", "aggregate_id"], name="outbox_aggregate_idx"),
            models.Index(
                fields=["id"],
                name="outbox_pending_idx",
                condition=models.Q(delivered_at__isnull=True),
            ),
            models.Index(fields=["correlation_id"], name="outbox_correlation_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.aggregate_type}:{self.aggregate_id}"


class JobRun(models.Model):
    """One execution of a background job with its counts."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    modified = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    detail = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["name", "-started_at"], name="jobrun_name_idx")]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"

    @property
    def dry_run(self) -> bool:
        """A run that only reports what it would do (its detail says dry_run: true)."""
        return isinstance(self.detail, dict) and self.detail.get("dry_run") is True


class Counter(models.Model):
    """A named counter for numbers people read, such as order numbers."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class ApiClient(models.Model):
    """An external system that calls the API with its own bearer token.

    Only a SHA-256 digest of the token is stored; the token itself is shown once, when
    it is made or rotated. A revoked client's token stops working at once.
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True)
    scopes = models.JSONField(default=list, help_text="The scopes this client holds.")
    token_prefix = models.CharField(
        max_length=16, editable=False, help_text="The start of the token, to recognise it."
    )
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    throttle_rate = models.CharField(
        max_length=20,
        blank=True,
        validators=[
            RegexValidator(r"^[0-9]+/(s|sec|m|min|h|hour|d)$", "Write a rate like 6000/min.")
        ],
        help_text='Overrides the default rate, e.g. "6000/min".',
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(bases=[AuditedHistory], excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="apiclient_revoked_inactive",
                condition=models.Q(revoked_at__isnull=True) | models.Q(is_active=False),
            )
        ]

    def __str__(self) -> str:
        return self.name


class IdempotencyKey(models.Model):
    """The first outcome of a POST made with an Idempotency-Key, replayed for retries.

    A key belongs to one caller (client or user). While the first request runs the
    row is `in_progress`; a second request with the key then gets 409. Rows are kept
    for OMS_IDEMPOTENCY_TTL_HOURS and pruned by a beat task.
    """

    owner = models.CharField(max_length=120, help_text="client:<id> or user:<id>")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="Digest of method, path and body.")
    in_progress = models.BooleanField(default=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotencykey_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotencykey_created_idx")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class WebhookSubscription(models.Model):
    """An external system that receives domain events by HTTP POST, signed with its
    secret (HMAC-SHA256). `event_types` holds event types ("order.approved"), families
    ("order.*") or "*" for every event."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField("URL", max_length=500)
    event_types = models.JSONField(default=list)
    secret = models.CharField(
        max_length=128, editable=False, help_text="Signs each delivery; shown once."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(bases=[AuditedHistory], excluded_fields=["secret"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def matches(self, event_type: str) -> bool:
        return any(
            pattern == "*"
            or pattern == event_type
            or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))
            for pattern in self.event_types
        )


class WebhookDelivery(models.Model):
    """One outbox event to one subscription: pending until the receiver answers 2xx
    (delivered) or until it gives up (failed). Each attempt is in its history."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries"
    )
    event = models.ForeignKey(
        OutboxEvent, on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a pending delivery is tried next."
    )
    retrying_since = models.DateTimeField(
        help_text="Start of the retry window (OMS_WEBHOOK_MAX_AGE_HOURS): the first attempt, "
        "or the last retry by hand."
    )
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(bases=[AuditedHistory], excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        permissions = [("retry_webhookdelivery", "Can retry failed webhook deliveries")]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="webhookdelivery_unique"
            ),
            models.CheckConstraint(
                name="webhookdelivery_status_valid",
                condition=models.Q(status__in=["pending", "delivered", "failed"]),
            ),
            models.CheckConstraint(
                name="webhookdelivery_delivered_at",
                condition=models.Q(status="delivered", delivered_at__isnull=False)
                | (~models.Q(status="delivered") & models.Q(delivered_at__isnull=True)),
            ),
            models.CheckConstraint(
                name="webhookdelivery_pending_is_scheduled",
                condition=~models.Q(status="pending") | models.Q(next_attempt_at__isnull=False),
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhookdelivery_due_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["status", "-updated_at"], name="webhookdelivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event.event_type} #{self.event_id} to {self.subscription.name}"
