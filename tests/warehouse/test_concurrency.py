"""Stock under concurrent writers (PostgreSQL, real threads)."""

import random
import threading
import time

import pytest
from django.db import connection

from oms.errors import DomainError, TransitionNotAllowed
from orders import services
from orders.choices import OrderKind, OrderStatus
from orders.models import Order
from tests.concurrency import at_once
from tests.factories import SETUP, ItemFactory, WarehouseFactory, order_in, stock
from warehouse.ledger.choices import ReturnResolution
from warehouse.ledger.reconcile import reconcile_stock
from warehouse.ledger.services import stock_adjust

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_reconciling_while_stock_moves_reads_one_consistent_snapshot():
    warehouse = WarehouseFactory()
    items = [ItemFactory() for _ in range(5)]
    for item in items:
        stock(warehouse, item, 100)
    stop = threading.Event()
    moved = []

    def move():
        rng = random.Random(3)
        try:
            while not stop.is_set():
                item = rng.choice(items)
                stock(warehouse, item, rng.randint(1, 5))
                stock_adjust(
                    warehouse=warehouse, item=item, quantity=-1, reason="count", actor=SETUP
                )
                moved.append(item.pk)
        finally:
            connection.close()

    writer = threading.Thread(target=move)
    writer.start()
    results = []
    deadline = time.monotonic() + 120
    try:
        # Check while the writer moves stock: at least 40 checks and 20 movements, however
        # busy the machine is.
        while (len(results) < 40 or len(moved) < 20) and time.monotonic() < deadline:
            results.append(reconcile_stock())
    finally:
        stop.set()
        writer.join(timeout=30)

    assert len(moved) >= 20, "the writer barely ran; the test proves nothing"
    assert [r.differences for r in results if not r.ok] == []
    assert reconcile_stock().ok


@pytest.mark.parametrize("attempt", range(3))
def test_two_coordinators_resolving_one_return_at_once_make_one_resolution(attempt):
    order = order_in(OrderStatus.PARTIALLY_RETURNED)
    record = order.returns.get()

    outcomes = at_once(
        lambda: services.return_replace(return_record=record, actor=SETUP, reason="replace"),
        lambda: services.return_close(return_record=record, actor=SETUP, reason="close"),
    )

    losers = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(losers) == 1 and isinstance(losers[0], TransitionNotAllowed), outcomes
    record.refresh_from_db()
    replacements = Order.objects.filter(kind=OrderKind.REPLACEMENT).count()
    assert (record.resolution, replacements) in {
        (ReturnResolution.REPLACED, 1),
        (ReturnResolution.CLOSED, 0),
    }
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CLOSED
