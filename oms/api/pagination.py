from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """?limit=&offset= over a stable order; limit is capped."""

    default_limit = 50
    max_limit = 200


class Rows:
    """A queryset paginated as plain value rows: counted on the model's own table (no
    joins), sliced as .values(*columns). For busy lists serialized from values."""

    def __init__(self, queryset, columns):
        self.queryset, self.columns = queryset, columns

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice):
        return list(self.queryset.values(*self.columns)[window])
