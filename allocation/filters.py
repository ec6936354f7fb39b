"""The filters of allocation runs and their outcomes, shared by the back office and the
API."""

import django_filters
from django.db.models import Q

from allocation.choices import Result, RunStatus, Trigger
from allocation.models import AllocationOutcome, AllocationRun
from oms.filters import StrictFilterSet, YesNoFilter
from orders.choices import Priority, ReasonCode


class RunFilter(StrictFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices, distinct=False)
    trigger = django_filters.MultipleChoiceFilter(choices=Trigger.choices, distinct=False)
    dry_run = YesNoFilter()

    class Meta:
        model = AllocationRun
        fields: list[str] = []


class OutcomeFilter(StrictFilterSet):
    result = django_filters.MultipleChoiceFilter(choices=Result.choices, distinct=False)
    item = django_filters.CharFilter(
        method="filter_item", help_text="An item code: the orders short of it."
    )
    reason_code = django_filters.ChoiceFilter(
        choices=ReasonCode.choices, help_text="Why a rejected order was rejected."
    )
    market = django_filters.CharFilter(field_name="order__project__market__code", help_text="Code.")
    priority = django_filters.MultipleChoiceFilter(
        field_name="order__national_priority", choices=Priority.choices, distinct=False
    )
    q = django_filters.CharFilter(
        method="filter_text", help_text="Order number, project ID or site code (prefix)."
    )

    class Meta:
        model = AllocationOutcome
        fields: list[str] = []

    def filter_item(self, queryset, name, value):
        code = value.strip()
        if not code or " " in code:
            return queryset.none() if code else queryset
        return queryset.filter(blocked_by__contains=f" {code} ")

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(order__number__istartswith=value)
            | Q(order__project__external_id__istartswith=value)
            | Q(order__project__site_code__istartswith=value)
        )
