"""Row locks on orders and their lines, for every writer in OMS.

Writers take their locks in one order, so that two of them never wait for each other:
orders first, by primary key; then their lines, by primary key; then stock levels (the
warehouse app's own helper). Each helper locks with SELECT ... FOR UPDATE OF the table
itself, so the rows joined for reading (an order's project, a line's item) stay free.
Call them inside the transaction that writes; the locks last until it ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import QuerySet

from oms.bulk import rows_by_ids
from orders.models import Order, OrderLine


def lock_orders(ids: Iterable[int]) -> dict[int, Order]:
    """Lock these orders, in primary-key order, and return them as they are now, by
    id. An id with no order is left out."""
    orders = Order.objects.select_for_update(of=("self",)).filter(pk__in=list(ids))
    return {order.pk: order for order in orders.order_by("pk")}


def lock_order_values(ids: Iterable[int], columns: Sequence[str]) -> list[tuple]:
    """The same lock as lock_orders, reading only `columns` of each order, as tuples in
    primary-key order: for bulk work (an allocation run's chunk re-checks thousands of
    orders)."""
    return rows_by_ids(Order, ids, list(columns), lock=True)


def lock_order(pk: int) -> Order:
    """Lock one order and return it as it is now, with its project (raises
    Order.DoesNotExist)."""
    return Order.objects.select_for_update(of=("self",)).select_related("project").get(pk=pk)


def lock_lines(*orders: Order) -> list[OrderLine]:
    """Lock the lines of these orders, whose rows the caller has locked first, in
    primary-key order, each with its item."""
    return list(_lines(orders).select_related("item"))


def lock_line_values(orders: Iterable[Order], columns: Sequence[str]) -> list[dict]:
    """The same lock as lock_lines, reading only `columns` (names as values() takes them,
    "item__code" among them) as plain dicts: for bulk work that makes model instances
    only of the few lines it changes."""
    return list(_lines(orders).values(*columns))


def _lines(orders: Iterable[Order]) -> QuerySet[OrderLine]:
    return (
        OrderLine.objects.select_for_update(of=("self",))
        .filter(order__in=list(orders))
        .order_by("pk")
    )
