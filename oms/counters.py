"""Human-readable numbers from named counters.

The counter row stays locked until the caller's transaction ends, so numbers are never
handed out twice; callers take a whole block at once for bulk work. Counter rows are
locked last, after every business row, so the lock order stays fixed.
"""

from django.db import connection, transaction

from oms.models import Counter


def take(name: str, count: int = 1) -> range:
    """Reserve `count` consecutive values of the named counter and return them."""
    if count < 1:
        raise ValueError("count must be at least 1")
    table = connection.ops.quote_name(Counter._meta.db_table)
    with transaction.atomic():
        Counter.objects.get_or_create(name=name)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET value = value + %s WHERE name = %s RETURNING value",
                [count, name],
            )
            last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)
