"""API scopes: what an external client may do, and what each scope means in Django
permissions (for the services' checks) and for a signed-in person using the API."""

from collections.abc import Iterable

from django.db import models


class Scope(models.TextChoices):
    ORDERS_READ = "orders:read", "Read orders, projects and their history"
    ORDERS_WRITE = "orders:write", "Review, enrich and move orders through their lifecycle"
    CATALOG_READ = "catalog:read", "Read items and kits"
    STOCK_READ = "stock:read", "Read stock levels"
    PLANNING_WRITE = "planning:write", "Send project master data"
    ENGINEERING_WRITE = "engineering:write", "Send design events"
    WAREHOUSE_WRITE = "warehouse:write", "Report releases, shipments, returns and stock"
    EVENTS_READ = "events:read", "Read the event feed"
    ALLOCATION_RUN = "allocation:run", "Start allocation runs and dry runs"


# The Django permissions an external client holds through each scope.
CLIENT_PERMISSIONS: dict[str, list[str]] = {
    Scope.ORDERS_READ: ["orders.view_order", "orders.view_project"],
    Scope.ORDERS_WRITE: [
        "orders.approve_order",
        "orders.reject_order",
        "orders.cancel_order",
        "orders.release_order",
        "orders.resolve_return",
        "orders.enrich_order",
    ],
    Scope.CATALOG_READ: ["catalog.view_item", "catalog.view_kit"],
    Scope.STOCK_READ: ["warehouse.view_stocklevel"],
    Scope.PLANNING_WRITE: ["orders.add_project", "orders.change_project"],
    Scope.ENGINEERING_WRITE: ["orders.add_order"],
    Scope.WAREHOUSE_WRITE: [
        "orders.complete_order",
        "orders.return_order",
        "orders.reject_order",
        "warehouse.adjust_stock",
    ],
    Scope.EVENTS_READ: ["oms.view_outboxevent"],
    Scope.ALLOCATION_RUN: ["allocation.run_allocation"],
}

# The permission a signed-in person needs to use an endpoint of each scope through
# their session. Write endpoints check the specific permission in the service too.
PERSON_PERMISSION: dict[str, str] = {
    Scope.ORDERS_READ: "orders.view_order",
    Scope.ORDERS_WRITE: "orders.view_order",
    Scope.CATALOG_READ: "catalog.view_item",
    Scope.STOCK_READ: "warehouse.view_stocklevel",
    Scope.PLANNING_WRITE: "orders.change_project",
    Scope.ENGINEERING_WRITE: "orders.add_order",
    Scope.WAREHOUSE_WRITE: "warehouse.adjust_stock",
    Scope.EVENTS_READ: "oms.view_outboxevent",
    Scope.ALLOCATION_RUN: "allocation.run_allocation",
}


def client_permissions(scopes: Iterable[str]) -> frozenset[str]:
    return frozenset(perm for scope in scopes for perm in CLIENT_PERMISSIONS.get(scope, ()))
