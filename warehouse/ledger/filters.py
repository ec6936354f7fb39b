"""The stock level filters, shared by the inventory page and the API."""

import django_filters
from django.db.models import F, Q

from catalog.choices import ItemCategory
from oms.filters import StrictFilterSet, YesNoFilter
from warehouse.ledger.models import StockLevel


class StockLevelFilter(StrictFilterSet):
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    item = django_filters.CharFilter(field_name="item__code")
    category = django_filters.ChoiceFilter(
        field_name="item__category", choices=ItemCategory.choices
    )
    q = django_filters.CharFilter(
        method="filter_text", help_text="Item code prefix or description."
    )
    below_minimum = YesNoFilter(
        method="filter_below_minimum", help_text="Available below the minimum level."
    )

    class Meta:
        model = StockLevel
        fields: list[str] = []

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(item__code__istartswith=value) | Q(item__description__icontains=value)
        )

    def filter_below_minimum(self, queryset, name, value):
        below = queryset.filter(on_hand__lt=F("reserved") + F("minimum_level"))
        return below if value else queryset.exclude(pk__in=below.values("pk"))
