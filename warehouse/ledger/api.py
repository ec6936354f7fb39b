from rest_framework import generics

from oms.api.views import ApiMixin
from oms.scopes import Scope
from warehouse.ledger.filters import StockLevelFilter
from warehouse.ledger.models import StockLevel
from warehouse.ledger.serializers import StockLevelSerializer


class StockLevelListApi(ApiMixin, generics.ListAPIView):
    """Stock per warehouse and item, with the quantity available to allocate."""

    required_scope = Scope.STOCK_READ
    serializer_class = StockLevelSerializer
    filterset_class = StockLevelFilter

    def get_queryset(self):
        return StockLevel.objects.select_related("warehouse", "item").order_by(
            "warehouse__code", "item__code"
        )
