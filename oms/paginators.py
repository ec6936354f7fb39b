"""Pagination of long back-office lists."""

from django.core.paginator import Paginator


class IdsFirstPaginator(Paginator):
    """Pages of a filtered, ordered queryset whose rows are shown with related rows.

    The count and a page's ids are read from the filtered queryset alone, without the
    joins that only fetch related rows for display, so a deep page walks one index of
    the main table instead of joining every row it skips. The page's rows are then read
    from `rows` (the queryset with its select_related) by id, in the same order. Two
    queries per page besides the count, however deep the page.

    A result of at most `read_whole` rows has all its ids read and sliced here. With a
    LIMIT, PostgreSQL may walk the sort's index hoping to meet the few matches early,
    which for a selective filter (a search for an old order's number) reads most of the
    table; without one it reads just the matches and sorts them."""

    read_whole = 2000

    def __init__(self, object_list, per_page, *, rows, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.rows = rows

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ordered_ids = self.object_list.values_list("pk", flat=True)
        small = self.count <= self.read_whole
        ids = list(ordered_ids)[bottom:top] if small else list(ordered_ids[bottom:top])
        rows = self.rows.filter(pk__in=ids)
        if self.object_list.query.order_by:  # else both have the model's default order
            rows = rows.order_by(*self.object_list.query.order_by)
        return self._get_page(rows, number, self)
