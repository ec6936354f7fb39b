from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from oms.actors import Actor
from oms.admin_base import HistoryAdmin, ReadOnlyAdmin, ReadOnlyInline, run_service
from orders import services
from orders.forms import ReasonForm
from orders.models import (
    Market,
    Order,
    OrderLine,
    OrderNote,
    OrderRevision,
    Project,
    Region,
)


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
class ProjectAdmin(ReadOnlyAdmin, HistoryAdmin):
    """Projects are master data of the planning system; they are read here."""

    list_display = ("external_id", "site_code", "name", "market", "status", "plan_type")
    list_filter = ("status", "plan_type", "market__region", "market")
    search_fields = ("external_id", "site_code", "name")
    list_select_related = ("market",)


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


class OrderNoteInline(ReadOnlyInline):
    model = OrderNote
    fields = ("created_at", "actor_name", "actor_kind", "text")
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
    inlines = [OrderLineInline, OrderNoteInline, OrderRevisionInline]
    show_full_result_count = False
    actions = ["approve", "reject", "cancel", "release", "resolve_close"]

    def _perm(self, request, codename):
        return request.user.has_perm(f"orders.{codename}")

    def has_approve_permission(self, request):
        return self._perm(request, "approve_order")

    def has_reject_permission(self, request):
        return self._perm(request, "reject_order")

    def has_cancel_permission(self, request):
        return self._perm(request, "cancel_order")

    def has_release_permission(self, request):
        return self._perm(request, "release_order")

    def has_resolve_permission(self, request):
        return self._perm(request, "resolve_return")

    def _each(self, request, queryset, verb, call):
        """Run a transition service on each selected order; report each outcome."""
        actor = Actor.person(request.user)
        done = [
            order.number
            for order in queryset.order_by("pk")
            if run_service(self, request, order.number, lambda o=order: call(o, actor))
        ]
        if done:
            self.message_user(request, f"{verb}: {', '.join(done)}.", messages.SUCCESS)

    @admin.action(description="Approve the selected orders", permissions=["approve"])
    def approve(self, request, queryset):
        self._each(
            request, queryset, "Approved", lambda o, a: services.order_approve(order=o, actor=a)
        )

    @admin.action(description="Release the selected orders", permissions=["release"])
    def release(self, request, queryset):
        self._each(
            request, queryset, "Released", lambda o, a: services.order_release(order=o, actor=a)
        )

    @admin.action(description="Close the selected returns as final", permissions=["resolve"])
    def resolve_close(self, request, queryset):
        self._each(
            request,
            queryset,
            "Closed",
            lambda o, a: services.order_resolve_close(order=o, actor=a),
        )

    @admin.action(description="Reject the selected orders to draft…", permissions=["reject"])
    def reject(self, request, queryset):
        return self._with_reason(request, queryset, "reject", "Rejected", services.order_reject)

    @admin.action(description="Cancel the selected orders…", permissions=["cancel"])
    def cancel(self, request, queryset):
        return self._with_reason(request, queryset, "cancel", "Cancelled", services.order_cancel)

    def _with_reason(self, request, queryset, action, verb, service):
        """A backward step needs a reason: ask for it, then apply it to each order."""
        form = ReasonForm(request.POST if "reason_code" in request.POST else None)
        if form.is_valid():
            code, text = form.cleaned_data["reason_code"], form.cleaned_data["reason_text"]
            self._each(
                request,
                queryset,
                verb,
                lambda o, a: service(order=o, actor=a, reason_code=code, reason_text=text),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{action.capitalize()} {queryset.count()} order(s)",
            "orders": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orders/order/reason.html", context)
