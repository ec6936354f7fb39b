from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from oms.actors import Actor
from oms.admin_base import HistoryAdmin, ReadOnlyAdmin, ReadOnlyInline, run_service
from warehouse.integration import dispatch
from warehouse.integration.models import Release, WarehouseCall, WarehouseCallback
from warehouse.ledger import services
from warehouse.ledger.models import (
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
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("served__market")

    @admin.display(description="markets (rank)")
    def served_markets(self, obj):
        return ", ".join(f"{s.market.code} ({s.rank})" for s in obj.served.all())


class StockChangeForm(forms.Form):
    KINDS = [("receipt", "Receipt (goods arrived)"), ("adjustment", "Adjustment (after a count)")]
    kind = forms.ChoiceField(choices=KINDS)
    # The bounds of the warehouse system's stock calls.
    quantity = forms.IntegerField(
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text="A receipt adds a positive quantity; an adjustment may be negative.",
    )
    reason = forms.CharField(max_length=200, help_text="Delivery note, count reference, ...")


class MinimumForm(forms.Form):
    minimum_level = forms.IntegerField(
        min_value=0,
        max_value=2_147_483_647,  # the column's range
        help_text="When available stock (on hand - reserved) falls below it, a "
        "stock.below_minimum event is published, once per crossing.",
    )
    reason = forms.CharField(max_length=200, help_text="Why it changes; kept in the history.")


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin, HistoryAdmin):
    """Stock levels are the sums of the ledger: read-only here. They change only through
    stock movements ("Receive or adjust" on a level, or the services). The minimum level
    is set with "Set the minimum level"; its changes are in the level's history."""

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
            path(
                "<int:pk>/minimum/",
                self.admin_site.admin_view(self.minimum_view),
                name="warehouse_stocklevel_minimum",
            ),
            *super().get_urls(),
        ]

    def minimum_view(self, request, pk):
        def change(level, data, actor):
            services.stock_set_minimum(
                level=level,
                minimum_level=data["minimum_level"],
                reason=data["reason"],
                actor=actor,
            )

        return self._level_form(
            request,
            pk,
            perm="warehouse.change_stocklevel",
            form_class=MinimumForm,
            initial=lambda level: {"minimum_level": level.minimum_level},
            change=change,
            title="Set the minimum level of {level}",
            submit="Save",
            done="Minimum level of {level} is {minimum_level}.",
        )

    def move_view(self, request, pk):
        def change(level, data, actor):
            record = services.stock_receive if data["kind"] == "receipt" else services.stock_adjust
            record(
                warehouse=level.warehouse,
                item=level.item,
                quantity=data["quantity"],
                reason=data["reason"],
                actor=actor,
            )

        return self._level_form(
            request,
            pk,
            perm="warehouse.adjust_stock",
            form_class=StockChangeForm,
            initial=lambda level: None,
            change=change,
            title="Receive or adjust {level}",
            submit="Record",
            done="Stock of {level} recorded.",
        )

    def _level_form(self, request, pk, *, perm, form_class, initial, change, title, submit, done):
        """A form page for one stock level: the form, then `change` (through its
        service), then back to the level with the `done` message (formatted with the
        level and the form's values)."""
        level = get_object_or_404(StockLevel.objects.select_related("warehouse", "item"), pk=pk)
        actor = Actor.person(request.user)
        if not actor.has_perm(perm):
            raise PermissionDenied
        form = form_class(request.POST or None, initial=initial(level))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if run_service(self, request, str(level), lambda: change(level, data, actor)):
                self.message_user(request, done.format(level=level, **data), messages.SUCCESS)
                return redirect(reverse("admin:warehouse_stocklevel_change", args=[level.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title.format(level=level),
            "level": level,
            "form": form,
            "submit": submit,
        }
        return TemplateResponse(request, "admin/warehouse/stocklevel/move.html", context)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "quantity", "warehouse", "item", "order", "actor")
    list_filter = ("kind", "warehouse", "actor_kind")
    search_fields = ("item__code", "order__number", "reason", "correlation_id", "actor_name")
    list_select_related = ("warehouse", "item", "order")
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="actor")
    def actor(self, obj):
        return f"{obj.actor_name} ({obj.actor_kind})"


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = (
        "release_id",
        "order",
        "warehouse",
        "status",
        "sent_at",
        "attempts",
        "delivery_failed_at",
        "asks",
        "unanswered_at",
        "created_at",
    )
    list_filter = ("status", "warehouse")
    search_fields = ("release_id", "order__number")
    list_select_related = ("order", "warehouse")
    actions = ["send_again"]

    @admin.action(
        description="Send the selected releases again (those not delivered or not answered)",
        permissions=["send_again"],
    )
    def send_again(self, request, queryset):
        """After a long outage: send again every release OMS stopped retrying."""
        actor = Actor.person(request.user)
        sent = [
            str(release.release_id)
            for release in queryset.filter(
                Q(delivery_failed_at__isnull=False) | Q(unanswered_at__isnull=False)
            ).order_by("pk")
            if run_service(self, request, str(release.release_id), partial(_resend, release, actor))
        ]
        self.message_user(request, f"Sent again: {len(sent)} releases.", messages.SUCCESS)

    def has_send_again_permission(self, request):
        return request.user.has_perm("orders.release_order")


def _resend(release: Release, actor: Actor) -> None:
    dispatch.release_resend(release=release, actor=actor)


@admin.register(WarehouseCall)
class WarehouseCallAdmin(ReadOnlyAdmin):
    """Every call OMS made to a warehouse system."""

    list_display = (
        "created_at",
        "warehouse",
        "release",
        "attempt",
        "status_code",
        "latency_ms",
        "outcome",
        "error",
    )
    list_filter = ("outcome", "warehouse")
    search_fields = ("release__release_id", "release__order__number", "correlation_id")
    list_select_related = ("warehouse", "release")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(WarehouseCallback)
class WarehouseCallbackAdmin(ReadOnlyAdmin):
    """Every callback from a warehouse system, by its event id."""

    list_display = ("received_at", "event_id", "kind", "order", "outcome", "actor_name")
    list_filter = ("kind",)
    search_fields = ("event_id", "order__number", "correlation_id")
    list_select_related = ("order",)
    date_hierarchy = "received_at"
    show_full_result_count = False


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
