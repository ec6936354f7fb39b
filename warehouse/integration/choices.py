"""The warehouse integration's choices: releases, calls and callbacks."""

from django.db import models


class ReleaseStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    COMPLETED = "completed", "Completed"


class CallOutcome(models.TextChoices):
    """What one call to the warehouse system came to."""

    DELIVERED = "delivered", "Delivered"
    RETRY = "retry", "Failed, will retry"
    FAILED = "failed", "Failed, not retried"


class CallbackKind(models.TextChoices):
    """The callbacks the warehouse system sends."""

    ACCEPTED = "accepted", "Release accepted"
    REJECTED = "rejected", "Release rejected"
    COMPLETED = "completed", "Release completed"
    RETURNED = "returned", "Return"
    STOCK_RECEIVED = "stock_received", "Stock receipt"
    STOCK_ADJUSTED = "stock_adjusted", "Stock adjustment"
