from django.db import models


class OrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    ALLOCATED = "allocated", "Allocated"
    RELEASED = "released", "Released"
    CLOSED = "closed", "Closed"
    PARTIALLY_RETURNED = "partially_returned", "Partially returned"
    FULLY_RETURNED = "fully_returned", "Fully returned"
    CANCELLED = "cancelled", "Cancelled"


class OrderType(models.TextChoices):
    """The stream of work an order belongs to; one project has one stream per type."""

    SITE_BUILD = "site_build", "Site build"
    RADIO = "radio", "Radio and antenna"
    TRANSMISSION = "transmission", "Transmission"
    POWER = "power", "Power"


class OrderKind(models.TextChoices):
    ORIGINAL = "original", "Original"
    DELTA = "delta", "Delta"
    SUPPLEMENTAL = "supplemental", "Supplemental"
    REPLACEMENT = "replacement", "Replacement"


class PlanType(models.TextChoices):
    NEW_BUILD = "new_build", "New build"
    COVERAGE = "coverage", "Coverage"
    CAPACITY = "capacity", "Capacity"
    MODERNIZATION = "modernization", "Modernization"
    MAINTENANCE = "maintenance", "Maintenance"


class Priority(models.IntegerChoices):
    """National priority: 1 is the most urgent."""

    P1 = 1, "P1 critical"
    P2 = 2, "P2 high"
    P3 = 3, "P3 normal"
    P4 = 4, "P4 low"
    P5 = 5, "P5 backlog"


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Milestone(models.TextChoices):
    """Project milestones in the order they are reached. The value is the date field."""

    SITE_ACQUIRED = "site_acquired_on", "Site acquired"
    DESIGN_COMPLETE = "design_complete_on", "Design complete"
    PERMITS_APPROVED = "permits_approved_on", "Permits approved"
    NOTICE_TO_PROCEED = "notice_to_proceed_on", "Notice to proceed"
    CONSTRUCTION_START = "construction_start_on", "Construction start"
    ON_AIR = "on_air_on", "On air"


class LineSource(models.TextChoices):
    UPSTREAM = "upstream", "Upstream design"
    KIT = "kit", "Kit expansion"
    MANUAL = "manual", "Added by a coordinator"


class RevisionSource(models.TextChoices):
    UPSTREAM = "upstream", "Upstream event"
    MANUAL = "manual", "Coordinator"


class ReasonCode(models.TextChoices):
    """Why an order moved backwards or was cancelled."""

    COORDINATOR_REJECTED = "coordinator_rejected", "Rejected by a coordinator"
    DATA_MISMATCH = "data_mismatch", "Upstream data does not match the site"
    UPSTREAM_CHANGE = "upstream_change", "Upstream change"
    UNKNOWN_ITEM = "unknown_item", "Unknown item"
    DISCONTINUED_ITEM = "discontinued_item", "Discontinued item"
    ITEM_NOT_STOCKED = "item_not_stocked", "No serving warehouse stocks an item"
    NO_SERVING_WAREHOUSE = "no_serving_warehouse", "No warehouse serves the project's market"
    WAREHOUSE_REJECTED = "warehouse_rejected", "Rejected by the warehouse"
    RETURN_REOPENED = "return_reopened", "Reopened after a return"
    UPSTREAM_CANCELLED = "upstream_cancelled", "Cancelled upstream"
    DUPLICATE = "duplicate", "Duplicate order"
    NO_LONGER_NEEDED = "no_longer_needed", "No longer needed"
    OTHER = "other", "Other"


# The reasons a person gives when rejecting, cancelling or reopening an order. The other
# codes are recorded by the system (the allocation run, the warehouse, upstream events,
# the returns queue); the services accept them from there, the back office never offers them.
PERSON_REASON_CODES = (
    ReasonCode.COORDINATOR_REJECTED,
    ReasonCode.DATA_MISMATCH,
    ReasonCode.DUPLICATE,
    ReasonCode.NO_LONGER_NEEDED,
    ReasonCode.OTHER,
)


def person_reason_choices() -> list[tuple[str, str]]:
    """The (value, label) choices of the reasons a person may give."""
    return [(code.value, code.label) for code in PERSON_REASON_CODES]


class DesignEventType(models.TextChoices):
    DESIGN_APPROVED = "design_approved", "Design approved"
    BOM_REVISED = "bom_revised", "Bill of material revised"
    SCHEDULE_UPDATED = "schedule_updated", "Schedule updated"
    DESIGN_CANCELLED = "design_cancelled", "Design cancelled"


class DesignOutcome(models.TextChoices):
    """What processing a design event did."""

    CREATED = "created", "Order created"
    REVISED = "revised", "Draft revised in place"
    RETURNED_TO_DRAFT = "returned_to_draft", "Returned to draft"
    DELTA_ORDER = "delta_order", "Delta order created"
    SUPPLEMENTAL_ORDER = "supplemental_order", "Supplemental order created"
    UNCHANGED = "unchanged", "Unchanged"
    DUPLICATE = "duplicate", "Duplicate event"
    STALE = "stale", "Stale (older than the last applied)"
    CANCELLED = "cancelled", "Order cancelled"
    FLAGGED = "flagged", "Flagged for a coordinator"
    INVALID = "invalid", "Invalid"


class TimelineKind(models.TextChoices):
    """What a timeline entry records."""

    HISTORY = "history", "A change to the order or a line"
    WAREHOUSE_CALL = "warehouse_call", "A call OMS made to a warehouse system"
    RELEASE_EVENT = "release_event", "What happened to a release"
    NOTE = "note", "A note on the order"
