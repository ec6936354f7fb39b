"""The warehouse app's models, for Django to find: the stock ledger's
(warehouse.ledger.models) and the warehouse integration's (warehouse.integration.models).
Code imports them from their own package."""

from warehouse.integration.models import Release, WarehouseCall, WarehouseCallback
from warehouse.ledger.models import (
    Allocation,
    Return,
    ReturnLine,
    StockLevel,
    StockMovement,
    Warehouse,
    WarehouseMarket,
)

__all__ = [
    "Allocation",
    "Release",
    "Return",
    "ReturnLine",
    "StockLevel",
    "StockMovement",
    "Warehouse",
    "WarehouseCall",
    "WarehouseCallback",
    "WarehouseMarket",
]
