from django.db import models


class Criterion(models.TextChoices):
    """What the ranking compares, in the order the ranking configuration lists them.
    Each sorts so that the most urgent order comes first."""

    NATIONAL_PRIORITY = "national_priority", "National priority (1 first)"
    PLAN_TYPE = "plan_type", "Plan type rank (1 first)"
    ORDER_TYPE = "order_type", "Order type rank (1 first)"
    NEED_BY = "need_by", "Need-by date (earliest first)"
    APPROVED_AT = "approved_at", "Approval time (earliest first)"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class Trigger(models.TextChoices):
    """Who or what started a run."""

    SCHEDULE = "schedule", "Schedule"
    BACK_OFFICE = "back_office", "Back office"
    API = "api", "API"
    STOCK_ARRIVAL = "stock_arrival", "Stock arrived"
    COMMAND = "command", "Command"


class Result(models.TextChoices):
    """What a run did with one approved order."""

    ALLOCATED = "allocated", "Allocated"
    SHORT = "short", "Short"
    REJECTED = "rejected", "Rejected to draft"
    GATED = "gated", "Gated"
    CHANGED = "changed", "Changed during the run"
