from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django_filters
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class FilterBackend(DjangoFilterBackend):
    """The view's FilterSet (an oms.filters.StrictFilterSet), built only when the request
    names one of its filters (an unfiltered list, the most common request, skips building
    the filter form). A filter sent empty is refused unless it takes text: the back office
    sends `?gated=` for "any", but over the API it is a value the schema does not allow."""

    # DRF hands the backend its own Request (an HttpRequest in django-filter's stubs).
    def filter_queryset(  # type: ignore[override]
        self, request: Request, queryset: QuerySet[Any], view: APIView
    ) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        named = filterset_class.base_filters.keys() & request.query_params.keys()
        if not named:
            return queryset
        empty = {
            name: ["Give a value or leave the parameter out."]
            for name in sorted(named)
            if "" in request.query_params.getlist(name)
            and not isinstance(filterset_class.base_filters[name], django_filters.CharFilter)
        }
        if empty:
            raise ValidationError(empty)
        return super().filter_queryset(request, queryset, view)
