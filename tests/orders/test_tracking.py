"""Where an order is: its lifecycle steps, the clock in its status, and why it is in
jeopardy, said by the same rule the dashboard and the queue's filter use."""

import datetime

import pytest
from django.utils import timezone

from orders import selectors
from orders.choices import OrderStatus
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.OMS_STATUS_LIMIT_DAYS = {"draft": 5}
    settings.OMS_NEED_BY_RISK_DAYS = 7


def _in_status_for(order, days):
    Order.objects.filter(pk=order.pk).update(
        status_changed_at=timezone.now() - datetime.timedelta(days=days, hours=1)
    )
    return Order.objects.get(pk=order.pk)


def test_the_reasons_name_the_limit_and_the_need_by_date_exactly_when_the_rule_holds(limits):
    today = timezone.localdate()
    orders = {
        "stale": _in_status_for(
            factories.make_order(need_by=today + datetime.timedelta(days=60)), 8
        ),
        "passed": factories.make_order(need_by=today - datetime.timedelta(days=2)),
        "soon": factories.make_order(need_by=today + datetime.timedelta(days=3)),
        "fine": factories.make_order(need_by=today + datetime.timedelta(days=60)),
    }

    reasons = {name: selectors.jeopardy_reasons(o, today) for name, o in orders.items()}

    assert reasons["stale"] == ["In Draft for 8 days, over its 5-day limit by 3 days."]
    assert reasons["passed"] == [
        f"Needed by {orders['passed'].need_by:%Y-%m-%d}: passed 2 days ago, and not released yet."
    ]
    assert reasons["soon"][0].endswith(
        "in 3 days (orders needed within 7 days are at risk), and not released yet."
    )
    assert reasons["fine"] == []
    in_jeopardy = set(selectors.jeopardy(today).values_list("number", flat=True))
    assert in_jeopardy == {o.number for name, o in orders.items() if reasons[name]}


def test_the_steps_mark_the_path_taken_and_the_current_status(limits):
    today = timezone.localdate()
    approved = factories.order_in(OrderStatus.APPROVED)
    cancelled = factories.order_in(OrderStatus.CANCELLED)
    returned = factories.order_in(OrderStatus.PARTIALLY_RETURNED)

    def states(order):
        return [(s.status.value, s.state) for s in selectors.order_tracking(order, today).steps]

    assert states(approved) == [
        ("draft", "done"),
        ("approved", "current"),
        ("allocated", "later"),
        ("released", "later"),
        ("closed", "later"),
    ]
    assert states(cancelled)[-1] == ("cancelled", "current")
    assert {state for _, state in states(cancelled)[:-1]} == {"off"}
    assert states(returned)[-2:] == [("closed", "done"), ("partially_returned", "current")]
    tracking = selectors.order_tracking(_in_status_for(factories.make_order(), 2), today)
    assert (tracking.limit_days, tracking.in_status_days) == (5, 2.0)
