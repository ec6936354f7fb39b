from django.contrib import admin, messages
from django.utils import timezone

from catalog import services
from catalog.models import Item, Kit, KitComponent, KitVersion
from oms.actors import Actor
from oms.admin_base import HistoryAdmin, run_service


@admin.register(Item)
class ItemAdmin(HistoryAdmin):
    list_display = ("code", "description", "unit", "category", "lifecycle", "replaced_by")
    list_filter = ("lifecycle", "category", "unit")
    search_fields = ("code", "description")
    autocomplete_fields = ("replaced_by",)
    list_per_page = 50


class KitVersionInline(admin.TabularInline):
    model = KitVersion
    fields = ("number", "effective_from", "effective_to", "published_at", "notes")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Kit)
class KitAdmin(HistoryAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    inlines = [KitVersionInline]


class KitComponentInline(admin.TabularInline):
    model = KitComponent
    extra = 1
    autocomplete_fields = ("item",)

    def _editable(self, obj):
        return obj is None or not obj.is_live

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(KitVersion)
class KitVersionAdmin(HistoryAdmin):
    """Drafts are edited here; publishing makes a version live and immutable. To change
    a live kit, use "Draft a new version" and publish the draft."""

    list_display = ("__str__", "kit", "effective_from", "effective_to", "state", "notes")
    list_filter = (("published_at", admin.EmptyFieldListFilter),)
    search_fields = ("kit__code", "kit__name")
    list_select_related = ("kit",)
    inlines = [KitComponentInline]
    actions = ["publish", "draft_new_version"]

    @admin.display(description="state")
    def state(self, obj):
        return "live" if obj.is_live else "draft"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("kit", "effective_from", "notes")
        return ("kit", "number", "effective_from", "effective_to", "published_at", "notes")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.is_live:
            return self.get_fields(request, obj)
        return ("kit", "number", "effective_to", "published_at")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_live:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_live:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        drafted = services.kit_version_draft(
            kit=obj.kit,
            effective_from=obj.effective_from,
            notes=obj.notes,
            actor=Actor.person(request.user),
        )
        obj.pk, obj.number = drafted.pk, drafted.number
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        # A new version starts with the components of the latest one (copied by the
        # draft service); components entered on the add form replace them.
        if not change and any(f.has_changed() for f in formset.forms):
            form.instance.components.all().delete()
        super().save_formset(request, form, formset, change)

    @admin.action(description="Publish the selected drafts", permissions=["change"])
    def publish(self, request, queryset):
        actor = Actor.person(request.user)
        published = 0
        for version in queryset.order_by("kit", "number"):
            if run_service(
                self,
                request,
                str(version),
                lambda v=version: services.kit_version_publish(version=v, actor=actor),
            ):
                published += 1
        if published:
            self.message_user(request, f"Published {published} version(s).", messages.SUCCESS)

    @admin.action(description="Draft a new version of the selected kits", permissions=["add"])
    def draft_new_version(self, request, queryset):
        actor = Actor.person(request.user)
        today = timezone.localdate()
        for kit_id in sorted(set(queryset.values_list("kit_id", flat=True))):
            kit = Kit.objects.get(pk=kit_id)
            if run_service(
                self,
                request,
                kit.code,
                lambda k=kit: services.kit_version_draft(kit=k, effective_from=today, actor=actor),
            ):
                self.message_user(request, f"Drafted a new version of {kit.code}.")
