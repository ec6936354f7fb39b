from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

from oms.api.query import whole_number

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

# PostgreSQL's bigint: the largest OFFSET it takes.
MAX_OFFSET = 2**63 - 1


class Pagination(LimitOffsetPagination):
    """?limit=&offset= over a stable order. A limit outside 1 to max_limit or an offset
    that is not a whole number is refused (400 naming the parameter), never replaced by
    the default."""

    default_limit = 50
    max_limit = 200

    def get_limit(self, request: Request) -> int:
        return self._whole(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request: Request) -> int:
        return self._whole(request, self.offset_query_param, 0, 0, MAX_OFFSET)

    def _whole(self, request: Request, name: str, default: int, least: int, most: int) -> int:
        if name not in request.query_params:
            return default
        value = whole_number(request.query_params[name], least=least, most=most)
        if value is None:
            raise ValidationError({name: [f"Give a whole number from {least} to {most}."]})
        return value

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


class Rows:
    """A queryset paginated as plain value rows: counted on the model's own table (no
    joins), sliced as .values(*columns). For busy lists serialized from values."""

    def __init__(self, queryset: QuerySet[Any], columns: Sequence[str]) -> None:
        self.queryset, self.columns = queryset, columns

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        return list(self.queryset.values(*self.columns)[window])
