from django.db import models


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ADJUSTMENT = "adjustment", "Adjustment"
    RESERVE = "reserve", "Reserve"
    UNRESERVE = "unreserve", "Unreserve"
    ISSUE = "issue", "Issue"
    RETURN = "return", "Return (good)"
    RETURN_DAMAGED = "return_damaged", "Return (damaged, set aside)"


# How one unit of each movement kind changes (on hand, reserved, damaged). The stock
# level is always the sum of its movements under these effects.
MOVEMENT_EFFECTS: dict[str, tuple[int, int, int]] = {
    MovementKind.RECEIPT: (1, 0, 0),
    MovementKind.ADJUSTMENT: (1, 0, 0),
    MovementKind.RESERVE: (0, 1, 0),
    MovementKind.UNRESERVE: (0, -1, 0),
    MovementKind.ISSUE: (-1, -1, 0),
    MovementKind.RETURN: (1, 0, 0),
    MovementKind.RETURN_DAMAGED: (0, 0, 1),
}


class ReleaseStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    COMPLETED = "completed", "Completed"


class Condition(models.TextChoices):
    GOOD = "good", "Good"
    DAMAGED = "damaged", "Damaged"


class ReturnResolution(models.TextChoices):
    """How a coordinator resolved a return."""

    CLOSED = "closed", "Closed as final"
    REOPENED = "reopened", "Order reopened to draft"
    REPLACED = "replaced", "Replacement order created"


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
