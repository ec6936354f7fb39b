import datetime
import functools

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django_fsm import FSMField, FSMModelMixin, Transition, transition
from simple_history.models import HistoricalRecords

from oms.models import AuditedHistory, HistoryByObject
from orders.choices import (
    DesignOutcome,
    LineSource,
    Milestone,
    OrderKind,
    OrderStatus,
    OrderType,
    PlanType,
    Priority,
    ProjectStatus,
    ReasonCode,
    RevisionSource,
)

S = OrderStatus


class Region(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Market(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="markets")
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """One site-level piece of work from the planning system."""

    external_id = models.CharField("project ID", max_length=40, unique=True)
    name = models.CharField(max_length=200, blank=True)
    site_code = models.CharField(max_length=40)
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="projects")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE
    )
    plan_type = models.CharField(max_length=20, choices=PlanType.choices)
    site_acquired_on = models.DateField(null=True, blank=True)
    design_complete_on = models.DateField(null=True, blank=True)
    permits_approved_on = models.DateField(null=True, blank=True)
    notice_to_proceed_on = models.DateField(null=True, blank=True)
    construction_start_on = models.DateField(null=True, blank=True)
    on_air_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.CheckConstraint(
                name="project_latitude_range",
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
            ),
            models.CheckConstraint(
                name="project_longitude_range",
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
            ),
        ]
        indexes = [
            models.Index(fields=["site_code"], name="project_site_code_idx"),
            models.Index(fields=["market", "status"], name="project_market_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.site_code})"

    @property
    def region(self) -> Region:
        return self.market.region

    @property
    def is_active(self) -> bool:
        return self.status == ProjectStatus.ACTIVE

    def milestone_date(self, milestone: Milestone) -> datetime.date | None:
        return getattr(self, Milestone(milestone).value)

    def has_reached(self, milestone: Milestone, on: datetime.date | None = None) -> bool:
        reached_on = self.milestone_date(milestone)
        return reached_on is not None and reached_on <= (on or datetime.date.today())

    def milestones(self) -> list[tuple[str, datetime.date | None]]:
        return [(m.label, self.milestone_date(m)) for m in Milestone]


# An order's number: MO- and its value from the "order" counter, seven digits at least.
ORDER_NUMBER_PATTERN = r"MO-[0-9]+"


def order_number(value: int) -> str:
    return f"MO-{value:07d}"


class Order(FSMModelMixin, models.Model):
    """A material order for one project. The status changes only through transitions,
    and transitions are called only by the services in orders.services."""

    number = models.CharField(max_length=20, unique=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="orders")
    order_type = models.CharField(max_length=20, choices=OrderType.choices)
    kind = models.CharField(max_length=16, choices=OrderKind.choices, default=OrderKind.ORIGINAL)
    plan_type = models.CharField(max_length=20, choices=PlanType.choices)
    national_priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, default=Priority.P3
    )
    need_by = models.DateField()
    gated = models.BooleanField(default=False)
    gate_reason = models.CharField(max_length=200, blank=True)
    status = FSMField(max_length=24, choices=OrderStatus.choices, default=S.DRAFT, protected=True)
    revision = models.PositiveIntegerField(default=1)
    version = models.PositiveIntegerField(
        default=1, help_text="Grows with every change to the order or its lines."
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    reason_code = models.CharField(max_length=32, choices=ReasonCode.choices, blank=True)
    reason_text = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    upstream_flag = models.TextField(
        blank=True,
        help_text="What upstream asked for that OMS could not apply (e.g. a reduction of a "
        "released order); for the coordinator to handle.",
    )
    lines_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person who last edited the lines, need-by date or priority (for the "
        "four-eyes rule).",
    )
    # PROTECT, not SET_NULL: people are deactivated, not deleted, and an assignment
    # ends only through order_assign, so that the history says who ended it and why.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_orders",
        help_text="The coordinator who looks after the order; changed only by order_assign.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    # Ingestion and allocation runs write tens of thousands of these history rows at a
    # time; the history is read by order only.
    history = HistoryByObject(
        no_db_index=["number", "project", "parent", "lines_edited_by", "assignee"]
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        permissions = [
            ("approve_order", "Can approve orders"),
            ("reject_order", "Can reject orders back to draft"),
            ("cancel_order", "Can cancel orders"),
            ("allocate_order", "Can allocate stock to orders"),
            ("release_order", "Can release orders to a warehouse"),
            ("complete_order", "Can complete released orders"),
            ("return_order", "Can record returns"),
            ("resolve_return", "Can resolve returns"),
            ("enrich_order", "Can edit the lines of draft orders"),
        ]
        constraints = [
            models.CheckConstraint(name="order_status_valid", condition=Q(status__in=S.values)),
            models.CheckConstraint(
                name="order_priority_range",
                condition=Q(national_priority__gte=1, national_priority__lte=5),
            ),
            models.CheckConstraint(name="order_revision_positive", condition=Q(revision__gte=1)),
            models.CheckConstraint(name="order_version_positive", condition=Q(version__gte=1)),
            models.CheckConstraint(
                name="order_gate_has_reason", condition=Q(gated=False) | ~Q(gate_reason="")
            ),
            models.CheckConstraint(
                name="order_reason_code_and_text",
                condition=Q(reason_code="", reason_text="")
                | (~Q(reason_code="") & ~Q(reason_text="")),
                violation_error_message="A reason has both a code and a text.",
            ),
            models.CheckConstraint(
                name="order_kind_parent",
                condition=(
                    Q(kind=OrderKind.ORIGINAL, parent__isnull=True)
                    | (~Q(kind=OrderKind.ORIGINAL) & Q(parent__isnull=False))
                ),
                violation_error_message="Delta, supplemental and replacement orders have a parent.",
            ),
            models.CheckConstraint(name="order_not_own_parent", condition=~Q(parent=F("id"))),
        ]
        indexes = [
            # The queue's sorts end in the id (a stable order); with the id in the index a
            # page's ids are read from the index alone, however deep the page.
            models.Index(
                fields=["status", "-updated_at", "-id"], name="order_status_updated_id_idx"
            ),
            models.Index(
                fields=["status", "national_priority", "need_by"], name="order_status_rank_idx"
            ),
            models.Index(fields=["project", "order_type"], name="order_stream_idx"),
            models.Index(fields=["-updated_at", "-id"], name="order_updated_id_idx"),
            models.Index(fields=["need_by", "id"], name="order_need_by_id_idx"),
            models.Index(
                fields=["national_priority", "need_by", "id"], name="order_priority_id_idx"
            ),
            models.Index(fields=["order_type", "status"], name="order_type_idx"),
            models.Index(fields=["plan_type", "status"], name="order_plan_type_idx"),
            models.Index(fields=["status"], name="order_gated_idx", condition=Q(gated=True)),
            models.Index(
                fields=["status"], name="order_with_reason_idx", condition=~Q(reason_code="")
            ),
        ]

    def __str__(self) -> str:
        return self.number

    # --- Transitions: state only. Side effects live in orders.services. ----------------

    @transition(status, source=S.DRAFT, target=S.APPROVED, permission="orders.approve_order")
    def approve(self):
        pass

    # A draft is not rejected: it is where a rejection leads.
    @transition(
        status,
        source=[S.APPROVED, S.ALLOCATED, S.RELEASED],
        target=S.DRAFT,
        permission="orders.reject_order",
    )
    def reject(self):
        pass

    @transition(
        status,
        source=[S.DRAFT, S.APPROVED, S.ALLOCATED],
        target=S.CANCELLED,
        permission="orders.cancel_order",
    )
    def cancel(self):
        pass

    @transition(status, source=S.APPROVED, target=S.ALLOCATED, permission="orders.allocate_order")
    def allocate(self):
        pass

    @transition(status, source=S.ALLOCATED, target=S.RELEASED, permission="orders.release_order")
    def release(self):
        pass

    @transition(status, source=S.RELEASED, target=S.CLOSED, permission="orders.complete_order")
    def complete(self):
        pass

    @transition(
        status,
        source=[S.CLOSED, S.PARTIALLY_RETURNED],
        target=S.PARTIALLY_RETURNED,
        permission="orders.return_order",
    )
    def return_partially(self):
        pass

    @transition(
        status,
        source=[S.CLOSED, S.PARTIALLY_RETURNED],
        target=S.FULLY_RETURNED,
        permission="orders.return_order",
    )
    def return_fully(self):
        pass

    @transition(
        status,
        source=[S.PARTIALLY_RETURNED, S.FULLY_RETURNED],
        target=S.CLOSED,
        permission="orders.resolve_return",
    )
    def resolve_close(self):
        pass

    @transition(
        status,
        source=[S.PARTIALLY_RETURNED, S.FULLY_RETURNED],
        target=S.DRAFT,
        permission="orders.resolve_return",
    )
    def reopen(self):
        pass


# Transitions that move an order backwards or end it need a reason code and text.
REASONED_TRANSITIONS = frozenset({"reject", "cancel", "reopen"})


@functools.cache
def transition_moves(name: str) -> tuple[Transition, ...]:
    """What the transition method `name` declares: one move per source status, each with
    its target and permission (django-fsm's listing of an order's transitions)."""
    return tuple(move for move in Order().get_all_status_transitions() if move.name == name)


class OrderLine(models.Model):
    """An item and quantity on an order, with how much of it is allocated (reserved in
    a warehouse now), released (shipped) and returned. On PostgreSQL the table keeps
    half of each page free, so those updates stay on their page (migration 0008)."""

    # Looked up by the unique (order, item) index, which starts with the order.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    # Looked up by the (item, order) index below, which starts with the item.
    item = models.ForeignKey(
        "catalog.Item", on_delete=models.PROTECT, related_name="order_lines", db_index=False
    )
    quantity = models.PositiveIntegerField()
    source = models.CharField(
        max_length=16, choices=LineSource.choices, default=LineSource.UPSTREAM
    )
    kit = models.ForeignKey(
        "catalog.Kit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replaces_item = models.ForeignKey(
        "catalog.Item",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The replaced item upstream asked for, when this line carries its successor.",
    )
    allocated_quantity = models.PositiveIntegerField(default=0)
    released_quantity = models.PositiveIntegerField(default=0)
    returned_quantity = models.PositiveIntegerField(default=0)
    # The largest history table: it is read by order (the order's page and timeline),
    # never by line, item or kit, so those columns go unindexed there (every index
    # slows each line that ingestion and allocation runs write).
    history = HistoryByObject(no_db_index=["id", "item", "kit", "replaces_item"])

    class Meta:
        ordering = ["order", "item__code"]
        constraints = [
            models.UniqueConstraint(fields=["order", "item"], name="orderline_unique_item"),
            models.CheckConstraint(name="orderline_quantity_positive", condition=Q(quantity__gt=0)),
            models.CheckConstraint(
                name="orderline_allocated_within_quantity",
                condition=Q(allocated_quantity__gte=0, allocated_quantity__lte=F("quantity")),
            ),
            models.CheckConstraint(
                name="orderline_released_nonnegative", condition=Q(released_quantity__gte=0)
            ),
            models.CheckConstraint(
                name="orderline_returned_within_released",
                condition=Q(
                    returned_quantity__gte=0, returned_quantity__lte=F("released_quantity")
                ),
            ),
        ]
        indexes = [
            # The lines of an item, with their orders read from the index alone: the
            # queue's search by item (orders.selectors.orders_matching_text).
            models.Index(fields=["item", "order"], name="orderline_item_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}: {self.quantity} x {self.item.code}"

    @property
    def outstanding_quantity(self) -> int:
        return self.outstanding(self.quantity, self.released_quantity, self.returned_quantity)

    @staticmethod
    def outstanding(quantity: int, released: int, returned: int) -> int:
        """What the site still needs: ordered minus what is out there now."""
        return max(quantity - (released - returned), 0)


class OrderRevision(models.Model):
    """One change to an order's content, holding only what changed (the delta):
    {"header": {field: [from, to]}, "lines": {"added": [...], "removed": [...],
    "changed": [{"item": code, "quantity": [from, to]}]}}."""

    # Looked up by the unique (order, number) index, which starts with the order.
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="revisions", db_index=False
    )
    number = models.PositiveIntegerField()
    source = models.CharField(max_length=16, choices=RevisionSource.choices)
    event_id = models.CharField(max_length=100, blank=True)
    delta = models.JSONField(default=dict)
    actor_kind = models.CharField(max_length=16)
    actor_name = models.CharField(max_length=150)
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="orderrevision_unique_number"),
            models.CheckConstraint(
                name="orderrevision_number_positive", condition=Q(number__gte=1)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} r{self.number}"


class OrderNote(models.Model):
    """A remark on an order by a coordinator or a client. Notes are added, never changed
    or removed, so the row itself is the record of who wrote what, and when."""

    MAX_LENGTH = 2000

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(max_length=MAX_LENGTH)
    actor_kind = models.CharField(max_length=16)
    actor_name = models.CharField(max_length=150)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["order", "-created_at"], name="ordernote_order_newest")]
        constraints = [
            models.CheckConstraint(name="ordernote_text_not_blank", condition=~Q(text="")),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} note by {self.actor_name}"


# --- Design events from the engineering system -----------------------------------------


class DesignEvent(models.Model):
    """A design event as received, stored before anything else so it is never lost.

    `payload` is what the engineering system sent and never changes; a coordinator's
    fix of an invalid event goes to `corrected_payload` (its versions are in history)
    and the event is processed again.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        INVALID = "invalid", "Invalid (dead letter)"

    event_id = models.CharField(max_length=100, unique=True)
    event_type = models.CharField(max_length=32, blank=True)
    project_external_id = models.CharField(max_length=40, blank=True)
    order_type = models.CharField(max_length=20, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    corrected_payload = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    outcome = models.CharField(max_length=24, choices=DesignOutcome.choices, blank=True)
    problems = models.JSONField(default=list, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="design_events"
    )
    received_from = models.CharField(max_length=150, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # The payload as sent never changes, so the history leaves it out; the versions of
    # a correction are there.
    history = HistoryByObject(
        excluded_fields=["attempts", "payload"], no_db_index=["event_id", "order"]
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="designevent_status_idx"),
            models.Index(
                fields=["project_external_id", "order_type"], name="designevent_stream_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.event_id

    @property
    def current_payload(self) -> dict:
        return self.corrected_payload if self.corrected_payload is not None else self.payload


class DesignStream(models.Model):
    """The latest applied design of one project and order type: the order it drives
    and the bill of material it holds, to compare the next event against."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="design_streams")
    order_type = models.CharField(max_length=20, choices=OrderType.choices)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, related_name="+")
    header = models.JSONField(default=dict)
    bom = models.JSONField(default=dict, help_text="Item code -> quantity.")
    last_event_id = models.CharField(max_length=100, blank=True)
    last_occurred_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "order_type"], name="designstream_unique")
        ]

    def __str__(self) -> str:
        return f"{self.project.external_id} {self.order_type}"


# --- Imported files ---------------------------------------------------------------------


class ImportedFile(models.Model):
    """A file taken from the import drop folder (OMS_IMPORT_DIR), remembered by its
    checksum so that the same content is imported once."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    job_run = models.ForeignKey(
        "oms.JobRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class SavedView(models.Model):
    """A person's named filters of the order queue: the query string of the queue's URL
    (checked by the queue's filter and written in one order when saved, without the page).
    Anyone with the link sees the same orders; only its owner sees it listed, renames,
    deletes or makes it their default (the view /orders/ opens with)."""

    NAME_LENGTH = 80
    QUERY_LENGTH = 2000

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=NAME_LENGTH)
    query = models.CharField(max_length=QUERY_LENGTH, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="savedview_unique_name"),
            models.UniqueConstraint(
                fields=["owner"], condition=Q(is_default=True), name="savedview_one_default"
            ),
            models.CheckConstraint(name="savedview_name_not_blank", condition=~Q(name="")),
        ]

    def __str__(self) -> str:
        return self.name
