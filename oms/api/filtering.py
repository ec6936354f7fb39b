from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    """The view's FilterSet, built only when the request names one of its filters (an
    unfiltered list, the most common request, skips building the filter form)."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not (
            filterset_class.base_filters.keys() & request.query_params.keys()
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
