import django_filters
from django.db.models import F

from warehouse.models import StockLevel


class StockLevelFilter(django_filters.FilterSet):
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    item = django_filters.CharFilter(field_name="item__code")
    category = django_filters.CharFilter(field_name="item__category")
    below_minimum = django_filters.BooleanFilter(
        method="filter_below_minimum", help_text="Available below the minimum level."
    )

    class Meta:
        model = StockLevel
        fields: list[str] = []

    def filter_below_minimum(self, queryset, name, value):
        below = queryset.filter(on_hand__lt=F("reserved") + F("minimum_level"))
        return below if value else queryset.exclude(pk__in=below.values("pk"))
