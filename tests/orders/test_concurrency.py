"""Two people act on the same order at the same moment (PostgreSQL, real threads)."""

import threading

import pytest
from django.db import connection

from oms.errors import DomainError, StaleVersion
from orders import services
from orders.choices import OrderStatus, ReasonCode
from orders.models import Order
from tests.factories import SETUP, make_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(*calls):
    """Run the calls at once from separate threads (each with its own connection)."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except DomainError as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("attempt", range(5))
def test_approve_and_cancel_at_once_exactly_one_wins(attempt):
    order = make_order()

    outcomes = _race(
        lambda: services.order_approve(order=order, actor=SETUP),
        lambda: services.order_cancel(
            order=order,
            actor=SETUP,
            reason_code=ReasonCode.NO_LONGER_NEEDED,
            reason_text="site dropped",
        ),
    )

    winners = [o for o in outcomes if isinstance(o, Order)]
    losers = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], StaleVersion)
    assert "changed since you loaded it" in str(losers[0])
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.status == winners[0].status
    assert fresh.status in {OrderStatus.APPROVED, OrderStatus.CANCELLED}
    # creation plus the one change that won
    assert fresh.history.count() == 2
