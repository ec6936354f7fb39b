from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from allocation.models import (
    AllocationOutcome,
    AllocationRun,
    OrderTypeRank,
    PlanTypeRank,
    RankingConfig,
    RankingCriterion,
)
from oms.admin_base import HistoryAdmin, ReadOnlyAdmin
from warehouse.ledger.models import Allocation


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ("order_line", "stock_level", "quantity", "status", "created_at", "ended_at")
    list_filter = ("status",)
    search_fields = ("order_line__order__number", "order_line__item__code")
    list_select_related = ("order_line__order", "order_line__item", "stock_level__warehouse")


class RankingCriterionInline(admin.TabularInline):
    model = RankingCriterion
    extra = 0
    fields = ("position", "criterion")
    verbose_name_plural = "Criteria, compared in order of position (then the older order)"


class PlanTypeRankInline(admin.TabularInline):
    model = PlanTypeRank
    extra = 0
    fields = ("plan_type", "rank")
    verbose_name_plural = "Plan type ranks (1 first; a plan type not listed comes last)"


class OrderTypeRankInline(admin.TabularInline):
    model = OrderTypeRank
    extra = 0
    fields = ("order_type", "rank")
    verbose_name_plural = "Order type ranks (1 first; an order type not listed comes last)"


@admin.register(RankingConfig)
class RankingConfigAdmin(HistoryAdmin):
    """The one ranking of the allocation engine: which approved order is served first.
    A change applies from the next run; every run records the ranking it used."""

    list_display = ("__str__", "updated_at")
    readonly_fields = ("updated_at",)
    inlines = [RankingCriterionInline, PlanTypeRankInline, OrderTypeRankInline]

    def has_add_permission(self, request):
        return not RankingConfig.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AllocationRun)
class AllocationRunAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "status",
        "trigger",
        "requested_by_name",
        "requested_at",
        "eligible",
        "allocated",
        "short",
        "rejected",
        "gated",
        "page",
    )
    list_filter = ("status", "dry_run", "trigger")

    @admin.display(description="back office")
    def page(self, obj):
        return format_html('<a href="{}">open</a>', reverse("allocation:run", args=[obj.pk]))


@admin.register(AllocationOutcome)
class AllocationOutcomeAdmin(ReadOnlyAdmin):
    list_display = ("run", "order", "rank", "result", "reason_code", "warehouses", "units")
    list_filter = ("result",)
    search_fields = ("order__number",)
    list_select_related = ("run", "order")
    show_full_result_count = False
