from django.contrib import admin

from oms.admin_base import HistoryAdmin, ReadOnlyAdmin, ReadOnlyInline
from orders.models import Market, Order, OrderLine, OrderRevision, Project, Region


@admin.register(Region)
class RegionAdmin(HistoryAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Market)
class MarketAdmin(HistoryAdmin):
    list_display = ("code", "name", "region")
    list_filter = ("region",)
    search_fields = ("code", "name")


@admin.register(Project)
class ProjectAdmin(HistoryAdmin):
    """Projects are master data of the planning system; they are read here."""

    list_display = ("external_id", "site_code", "name", "market", "status", "plan_type")
    list_filter = ("status", "plan_type", "market__region", "market")
    search_fields = ("external_id", "site_code", "name")
    list_select_related = ("market",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = (
        "item",
        "quantity",
        "source",
        "kit",
        "replaces_item",
        "allocated_quantity",
        "released_quantity",
        "returned_quantity",
    )
    readonly_fields = fields


class OrderRevisionInline(ReadOnlyInline):
    model = OrderRevision
    fields = ("number", "source", "event_id", "actor_name", "created_at", "delta")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin, HistoryAdmin):
    """Orders move only through their lifecycle (the back office and the API); the
    admin shows them with their lines, revisions and history."""

    list_display = (
        "number",
        "project",
        "order_type",
        "kind",
        "status",
        "national_priority",
        "need_by",
        "gated",
        "updated_at",
    )
    list_filter = ("status", "order_type", "kind", "plan_type", "national_priority", "gated")
    search_fields = ("number", "project__external_id", "project__site_code")
    list_select_related = ("project",)
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, OrderRevisionInline]
    show_full_result_count = False
