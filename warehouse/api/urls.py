from django.urls import path

from warehouse.integration import api as callbacks
from warehouse.ledger import api as views

RELEASE = "warehouse/releases/<uuid:release_id>"

urlpatterns = [
    path("stock-levels/", views.StockLevelListApi.as_view(), name="stock-level-list"),
    path(
        f"{RELEASE}/accepted/",
        callbacks.ReleaseAcceptedApi.as_view(),
        name="warehouse-release-accepted",
    ),
    path(
        f"{RELEASE}/rejected/",
        callbacks.ReleaseRejectedApi.as_view(),
        name="warehouse-release-rejected",
    ),
    path(
        f"{RELEASE}/completed/",
        callbacks.ReleaseCompletedApi.as_view(),
        name="warehouse-release-completed",
    ),
    path(
        f"{RELEASE}/returns/",
        callbacks.ReleaseReturnedApi.as_view(),
        name="warehouse-release-returns",
    ),
    path(
        "warehouse/stock-receipts/",
        callbacks.StockReceiptApi.as_view(),
        name="warehouse-stock-receipts",
    ),
    path(
        "warehouse/stock-adjustments/",
        callbacks.StockAdjustmentApi.as_view(),
        name="warehouse-stock-adjustments",
    ),
]
