"""Shared admin building blocks.

The admin is where catalog admins keep reference data. Operational records (orders,
stock levels, the ledger, outbox) change only through the services, so their admin
pages are read-only views; the services keep the lifecycle, the ledger and the audit
trail consistent.
"""

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import Model
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from oms.errors import DomainError


class ReadOnlyAdmin(admin.ModelAdmin):
    """A view of records that only the services write."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class HistoryAdmin(SimpleHistoryAdmin):
    """Admin for audited reference data, with its change history."""


def run_service(
    model_admin: admin.ModelAdmin, request: HttpRequest, label: str, call: Callable[[], object]
) -> bool:
    """Call a service; a refused domain rule becomes an error message, not a 500."""
    try:
        call()
    except DomainError as exc:
        details = "; ".join(p.message for p in exc.problems)
        model_admin.message_user(
            request, f"{label}: {exc.message}{' ' + details if details else ''}", messages.ERROR
        )
        return False
    return True
