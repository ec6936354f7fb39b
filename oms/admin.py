from django.contrib import admin

from oms.admin_base import ReadOnlyAdmin
from oms.models import JobRun, OutboxEvent


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
