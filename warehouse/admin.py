from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from oms.actors import Actor
from oms.admin_base import HistoryAdmin, ReadOnlyAdmin, ReadOnlyInline, run_service
from warehouse import services
from warehouse.models import (
    Release,
    Return,
    ReturnLine,
    StockLevel,
    StockMovement,
    Warehouse,
    WarehouseMarket,
)


class WarehouseMarketInline(admin.TabularInline):
    model = WarehouseMarket
    extra = 1
    autocomplete_fields = ("market",)


@admin.register(Warehouse)
class WarehouseAdmin(HistoryAdmin):
    list_display = ("code", "name", "active", "served_markets")
    list_filter = ("active",)
    search_fields = ("code", "name")
    inlines = [WarehouseMarketInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("served__market")

    @admin.display(description="markets (rank)")
    def served_markets(self, obj):
        return ", ".join(f"{s.market.code} ({s.rank})" for s in obj.served.all())


class StockChangeForm(forms.Form):
    KINDS = [("receipt", "Receipt (goods arrived)"), ("adjustment", "Adjustment (after a count)")]
    kind = forms.ChoiceField(choices=KINDS)
    quantity = forms.IntegerField(
        help_text="A receipt adds a positive quantity; an adjustment may be negative."
    )
    reason = forms.CharField(max_length=200, help_text="Delivery note, count reference, ...")


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    """Stock levels are the sums of the ledger: read-only here. They change only through
    stock movements ("Receive or adjust" on a level, or the services)."""

    list_display = (
        "warehouse",
        "item",
        "on_hand",
        "reserved",
        "available_quantity",
        "damaged",
        "minimum_level",
    )
    list_filter = ("warehouse",)
    search_fields = ("item__code", "item__description", "warehouse__code")
    list_select_related = ("warehouse", "item")
    fields = ("warehouse", "item", "on_hand", "reserved", "damaged", "minimum_level", "updated_at")
    readonly_fields = fields
    change_form_template = "admin/warehouse/stocklevel/change_form.html"

    @admin.display(description="available")
    def available_quantity(self, obj):
        return obj.available

    def get_urls(self):
        return [
            path(
                "<int:pk>/move/",
                self.admin_site.admin_view(self.move_view),
                name="warehouse_stocklevel_move",
            ),
            *super().get_urls(),
        ]

    def move_view(self, request, pk):
        level = get_object_or_404(StockLevel.objects.select_related("warehouse", "item"), pk=pk)
        actor = Actor.person(request.user)
        if not actor.has_perm("warehouse.adjust_stock"):
            raise PermissionDenied
        form = StockChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            change = (
                services.stock_receive
                if form.cleaned_data["kind"] == "receipt"
                else (services.stock_adjust)
            )
            ok = run_service(
                self,
                request,
                str(level),
                lambda: change(
                    warehouse=level.warehouse,
                    item=level.item,
                    quantity=form.cleaned_data["quantity"],
                    reason=form.cleaned_data["reason"],
                    actor=actor,
                ),
            )
            if ok:
                self.message_user(request, f"Stock of {level} recorded.", messages.SUCCESS)
                return redirect(reverse("admin:warehouse_stocklevel_change", args=[level.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Receive or adjust {level}",
            "level": level,
            "form": form,
        }
        return TemplateResponse(request, "admin/warehouse/stocklevel/move.html", context)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "quantity", "warehouse", "item", "order_line", "actor")
    list_filter = ("kind", "warehouse", "actor_kind")
    search_fields = ("item__code", "reason", "correlation_id", "actor_name")
    list_select_related = ("warehouse", "item", "order_line__order")
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="actor")
    def actor(self, obj):
        return f"{obj.actor_name} ({obj.actor_kind})"


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = ("release_id", "order", "warehouse", "status", "created_at")
    list_filter = ("status", "warehouse")
    search_fields = ("release_id", "order__number")
    list_select_related = ("order", "warehouse")


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = ("order_line", "quantity", "condition", "reason")
    readonly_fields = fields


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdmin):
    list_display = ("id", "order", "warehouse", "external_id", "actor_name", "created_at")
    list_filter = ("warehouse",)
    search_fields = ("order__number", "external_id")
    list_select_related = ("order", "warehouse")
    inlines = [ReturnLineInline]
