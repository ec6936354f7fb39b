"""The order timeline: who, what kind of actor, what changed from what to what, why."""

import pytest

from orders import services
from orders.choices import OrderStatus
from orders.selectors import order_timeline
from tests.factories import SETUP, make_order

pytestmark = pytest.mark.django_db


def _edit_many(order, actor, times):
    line = order.lines.get()
    for quantity in range(2, 2 + times):
        order = services.order_edit_lines(
            order=order, edits=services.LineEdits(quantities={line.pk: quantity}), actor=actor
        )
    return order


def test_timeline_shows_who_changed_what_newest_first(coordinator, coordinator_actor):
    order = make_order()
    order = _edit_many(order, coordinator_actor, 1)
    services.order_approve(order=order, actor=SETUP)

    timeline = order_timeline(order)

    newest = timeline[0]
    assert (newest.subject, newest.action, newest.actor_kind) == ("order", "changed", "system")
    status_change = next(c for c in newest.changes if c.field == "status")
    assert (status_change.old, status_change.new) == ("Draft", "Approved")
    assert newest.reason == "approve"
    edit = next(e for e in timeline if e.subject.startswith("line") and e.action == "changed")
    assert (edit.actor_kind, edit.actor_name) == ("person", coordinator.username)
    assert [(c.field, c.old, c.new) for c in edit.changes] == [("quantity", 5, 2)]
    assert timeline[-1].action == "created"
    assert [e.when for e in timeline] == sorted((e.when for e in timeline), reverse=True)


@pytest.mark.parametrize("edits", [1, 25])
def test_timeline_query_count_does_not_grow_with_history(
    edits, coordinator_actor, django_assert_num_queries
):
    order = _edit_many(make_order(), coordinator_actor, edits)
    services.order_approve(order=order, actor=SETUP)

    # order history, line history, warehouse calls, release events
    with django_assert_num_queries(5):
        timeline = order_timeline(order)

    # the creation of order and line, every line edit, the approval
    assert len(timeline) == edits + 3
    assert order.status != OrderStatus.CLOSED
