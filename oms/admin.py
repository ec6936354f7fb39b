from django import forms
from django.contrib import admin, messages

from oms import clients
from oms.actors import Actor
from oms.admin_base import HistoryAdmin, ReadOnlyAdmin
from oms.models import ApiClient, JobRun, OutboxEvent
from oms.scopes import Scope


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "event_type",
        "aggregate_type",
        "aggregate_id",
        "created_at",
        "delivered_at",
    )
    list_filter = ("event_type", "aggregate_type")
    search_fields = ("aggregate_id", "correlation_id")
    show_full_result_count = False


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "started_at", "finished_at", "created", "modified", "failed")
    list_filter = ("name", "status")


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiClient
        fields = ["name", "description", "scopes", "throttle_rate"]


@admin.register(ApiClient)
class ApiClientAdmin(HistoryAdmin):
    """Clients are made with `manage.py create_api_client` or "Add" here; the token is
    shown once. Rotate gives a new token; revoke stops the client at once."""

    form = ApiClientForm
    list_display = ("name", "token_prefix", "scope_list", "is_active", "last_used_at")
    list_filter = ("is_active",)
    search_fields = ("name", "token_prefix")
    readonly_fields = (
        "token_prefix",
        "is_active",
        "created_at",
        "rotated_at",
        "revoked_at",
        "last_used_at",
    )
    actions = ["rotate", "revoke"]

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the history stays

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        client, token = clients.api_client_create(
            name=obj.name,
            scopes=form.cleaned_data["scopes"],
            description=obj.description,
            actor=Actor.person(request.user),
        )
        if obj.throttle_rate:
            ApiClient.objects.filter(pk=client.pk).update(throttle_rate=obj.throttle_rate)
        obj.pk = client.pk
        obj._state.adding = False
        self._show_token(request, client, token)

    def _show_token(self, request, client, token):
        self.message_user(
            request,
            f"Token for {client.name} (shown only now): {token}",
            messages.WARNING,
        )

    @admin.action(description="Rotate the token of the selected clients", permissions=["change"])
    def rotate(self, request, queryset):
        actor = Actor.person(request.user)
        for client in queryset.filter(is_active=True):
            self._show_token(request, client, clients.api_client_rotate(client=client, actor=actor))

    @admin.action(description="Revoke the selected clients", permissions=["change"])
    def revoke(self, request, queryset):
        actor = Actor.person(request.user)
        for client in queryset:
            clients.api_client_revoke(client=client, actor=actor)
        self.message_user(request, f"Revoked {queryset.count()} client(s).", messages.SUCCESS)
