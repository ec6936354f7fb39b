"""Two people act on the same order at the same moment (PostgreSQL, real threads)."""

import pytest

from oms.errors import DomainError, StaleVersion
from orders import services
from orders.choices import OrderStatus, ReasonCode
from orders.models import Order
from tests.concurrency import at_once
from tests.factories import SETUP, make_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("attempt", range(5))
def test_approve_and_cancel_at_once_exactly_one_wins(attempt):
    order = make_order()

    outcomes = at_once(
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
