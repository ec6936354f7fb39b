import django_filters
from django.db.models import Q

from catalog.choices import ItemCategory, ItemLifecycle
from catalog.models import Item
from oms.filters import StrictFilterSet


class ItemFilter(StrictFilterSet):
    category = django_filters.MultipleChoiceFilter(choices=ItemCategory.choices)
    lifecycle = django_filters.MultipleChoiceFilter(choices=ItemLifecycle.choices)
    q = django_filters.CharFilter(method="filter_text", help_text="Code prefix or description.")

    class Meta:
        model = Item
        fields: list[str] = []

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__istartswith=value) | Q(description__icontains=value))
