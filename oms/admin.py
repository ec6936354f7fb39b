from django import forms
from django.contrib import admin, messages

from oms import clients, webhooks
from oms.actors import Actor
from oms.admin_base import HistoryAdmin, ReadOnlyAdmin
from oms.errors import DomainError
from oms.models import ApiClient, JobRun, OutboxEvent, WebhookDelivery, WebhookSubscription
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


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    event_types = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Event types, one per line or comma-separated: "order.approved", a family '
        'such as "order.*", or "*" for every event.',
    )
    new_secret = forms.CharField(
        label="Secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave empty to keep the current secret; a new subscription "
        "without one gets a secret made for it, shown once after saving.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "event_types", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["event_types"] = "\n".join(self.instance.event_types)

    def clean_event_types(self):
        values = self.cleaned_data["event_types"].replace(",", "\n").splitlines()
        try:
            return webhooks.clean_event_types(values)
        except DomainError as exc:
            raise forms.ValidationError([p.message for p in exc.problems] or exc.message) from exc

    def clean_new_secret(self):
        secret = self.cleaned_data["new_secret"]
        if not secret:
            return secret
        try:
            return webhooks.clean_secret(secret)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(HistoryAdmin):
    """Receivers of domain events. The secret signs every delivery: it is shown once
    (when made) and never again; the receiver keeps it to verify signatures."""

    form = WebhookSubscriptionForm
    list_display = ("name", "url", "event_type_list", "active", "updated_at")
    list_filter = ("active",)
    search_fields = ("name", "url")
    readonly_fields = ("created_at", "updated_at")
    actions = ["new_secrets"]

    @admin.display(description="event types")
    def event_type_list(self, obj):
        return ", ".join(obj.event_types)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: deliveries keep their subscription

    def save_model(self, request, obj, form, change):
        actor = Actor.person(request.user)
        secret = form.cleaned_data.get("new_secret", "")
        if change:
            super().save_model(request, obj, form, change)
            if secret:
                webhooks.subscription_rotate_secret(subscription=obj, actor=actor, secret=secret)
            return
        subscription, made = webhooks.subscription_create(
            name=obj.name,
            url=obj.url,
            event_types=obj.event_types,
            active=obj.active,
            secret=secret,
            actor=actor,
        )
        obj.pk = subscription.pk
        obj._state.adding = False
        if not secret:
            self._show_secret(request, subscription, made)

    def _show_secret(self, request, subscription, secret):
        self.message_user(
            request,
            f"Signing secret for {subscription.name} (shown only now): {secret}",
            messages.WARNING,
        )

    @admin.action(
        description="Make a new signing secret for the selected subscriptions",
        permissions=["change"],
    )
    def new_secrets(self, request, queryset):
        actor = Actor.person(request.user)
        for subscription in queryset:
            secret = webhooks.subscription_rotate_secret(subscription=subscription, actor=actor)
            self._show_secret(request, subscription, secret)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """Deliveries are written by the webhook sender; failed ones are retried from the
    back office (Webhooks)."""

    list_display = (
        "id",
        "subscription",
        "event_type",
        "event_id",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "updated_at",
    )
    list_filter = ("status", "subscription")
    search_fields = ("event__event_type", "last_error")
    list_select_related = ("subscription", "event")
    show_full_result_count = False

    @admin.display(description="event type")
    def event_type(self, obj):
        return obj.event.event_type
