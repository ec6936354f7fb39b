from django.contrib import admin

from allocation.models import Allocation
from oms.admin_base import ReadOnlyAdmin


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ("order_line", "stock_level", "quantity", "status", "created_at", "ended_at")
    list_filter = ("status",)
    search_fields = ("order_line__order__number", "order_line__item__code")
    list_select_related = ("order_line__order", "order_line__item", "stock_level__warehouse")
