"""The stock ledger's choices: movement kinds and their effects, and returns."""

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


class Condition(models.TextChoices):
    GOOD = "good", "Good"
    DAMAGED = "damaged", "Damaged"


class ReturnResolution(models.TextChoices):
    """How a coordinator resolved a return."""

    CLOSED = "closed", "Closed as final"
    REOPENED = "reopened", "Order reopened to draft"
    REPLACED = "replaced", "Replacement order created"
