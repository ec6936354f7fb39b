"""The trends page: orders per week, lead times per market, rejections per reason and
shortfalls per item, each from one aggregate read."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from allocation.choices import RunStatus
from allocation.models import AllocationRun
from oms.models import OutboxEvent
from oms.shell import analysis
from orders import services
from orders.choices import OrderStatus, ReasonCode
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db


def _moved_back(weeks: int, **events):
    """Move the matching outbox events `weeks` weeks into the past."""
    OutboxEvent.objects.filter(**events).update(
        created_at=timezone.now() - datetime.timedelta(weeks=weeks)
    )


def test_orders_per_week_count_each_event_in_its_week():
    factories.make_order()
    factories.order_in(OrderStatus.APPROVED)
    closed = factories.order_in(OrderStatus.CLOSED)
    _moved_back(2, aggregate_id=str(closed.pk), event_type="order.created")

    rows = {row.name: row.values for row in analysis.trends().orders}

    assert rows["created"][-1] == 2 and rows["created"][-3] == 1
    assert rows["approved"][-1] == 2
    assert rows["closed"][-1] == 1 and sum(rows["closed"]) == 1
    assert [len(v) for v in rows.values()] == [analysis.WEEKS] * 3


def test_lead_time_is_from_the_last_approval_to_the_close_per_market():
    project = factories.ProjectFactory()
    orders = [factories.order_in(OrderStatus.CLOSED, project=project) for _ in range(3)]
    for days, order in zip((1, 2, 10), orders, strict=True):
        Order.objects.filter(pk=order.pk).update(
            approved_at=timezone.now() - datetime.timedelta(days=days)
        )
    elsewhere = factories.order_in(OrderStatus.CLOSED)

    leads = {lead.market: lead for lead in analysis.trends().lead_times}

    lead = leads[project.market.name]
    assert (lead.orders, round(lead.median_days, 1), round(lead.p90_days, 1)) == (3, 2.0, 8.4)
    assert leads[elsewhere.project.market.name].orders == 1


def test_rejections_are_counted_per_reason_and_week():
    for reason in (ReasonCode.DATA_MISMATCH, ReasonCode.DATA_MISMATCH, ReasonCode.OTHER):
        order = factories.order_in(OrderStatus.APPROVED)
        services.order_reject(
            order=order, actor=factories.SETUP, reason_code=reason, reason_text="check"
        )

    rows = {row.name: row.values for row in analysis.trends().rejections}

    assert rows[ReasonCode.DATA_MISMATCH.label][-1] == 2
    assert rows[ReasonCode.OTHER.label][-1] == 1
    assert next(iter(rows)) == ReasonCode.DATA_MISMATCH.label  # most first


def test_shortfalls_come_from_each_weeks_last_run():
    def run(weeks_ago, blocking):
        started = timezone.now() - datetime.timedelta(weeks=weeks_ago)
        return AllocationRun.objects.create(
            status=RunStatus.SUCCEEDED, active=None, started_at=started, blocking=blocking
        )

    run(1, [{"item": "RRU-01", "units_to_unblock": 40}])
    run(0, [{"item": "RRU-01", "units_to_unblock": 30}, {"item": "ANT-02", "units_to_unblock": 50}])
    run(0, [{"item": "RRU-01", "units_to_unblock": 12}])  # this week's last run

    rows = {row.name: row.values for row in analysis.trends().shortfalls}

    assert rows["RRU-01"][-2:] == (40, 12)
    assert rows.get("ANT-02", (0,))[-1] == 0


@pytest.mark.parametrize("orders", [1, 12])
def test_the_trends_page_reads_the_same_few_queries_however_many_orders(
    orders, viewer_client, django_assert_max_num_queries
):
    for _ in range(orders):
        factories.order_in(OrderStatus.CLOSED)

    with django_assert_max_num_queries(12):
        page = viewer_client.get(reverse("trends"))

    assert page.status_code == 200
    assert (
        b"Orders per week" in page.content and b"Lead time from approval to close" in page.content
    )
