"""Callbacks from the warehouse system: a release accepted, rejected or completed, a
return, a stock receipt or adjustment.

Each callback carries the warehouse's event id and is applied at most once: its
receipt (WarehouseCallback, unique by event id) is written in the same transaction as
its effect, and the same event sent again gets the first answer without any further
effect (the same event id with other content is refused). A callback the rules refuse
leaves no receipt, so the warehouse may send it again once the cause is gone (a return
for an order not yet completed, say).

The order stays RELEASED from the moment OMS asks for the release (the request is
committed and will be delivered); "accepted" marks the Release ACCEPTED. Callbacks
that arrive out of order end in the same state: "completed" before "accepted" closes
the order, and the late "accepted" changes nothing.
"""

from warehouse.integration.callbacks.receipts import (
    Answer,
    EventIdReused,
    ReturnedLine,
    ShippedLine,
    receive,
)
from warehouse.integration.callbacks.releases import (
    release_accepted,
    release_completed,
    release_rejected,
    release_returned,
)
from warehouse.integration.callbacks.stock import stock_reported

__all__ = [
    "Answer",
    "EventIdReused",
    "ReturnedLine",
    "ShippedLine",
    "receive",
    "release_accepted",
    "release_completed",
    "release_rejected",
    "release_returned",
    "stock_reported",
]
