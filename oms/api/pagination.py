from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """?limit=&offset= over a stable order; limit is capped."""

    default_limit = 50
    max_limit = 200
