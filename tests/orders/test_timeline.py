"""The order timeline: who, what kind of actor, what changed from what to what, why."""

import pytest
from django.urls import reverse

from oms import correlation
from oms.actors import Actor
from orders import services
from orders.choices import OrderStatus
from orders.web.timeline import order_timeline, timeline_actions
from tests.factories import SETUP, ItemFactory, WarehouseFactory, make_order, stock

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


def _allocated_with_two_lines(actor):
    warehouse = WarehouseFactory()
    items = [ItemFactory(), ItemFactory()]
    for item in items:
        stock(warehouse, item, 5)
    order = make_order(lines=[(items[0], 2), (items[1], 3)])
    with correlation.use("req-approve"):
        order = services.order_approve(order=order, actor=SETUP)
    with correlation.use("req-allocate"):
        return services.order_allocate(order=order, warehouse=warehouse, actor=actor)


def test_one_action_is_one_entry_with_everything_it_changed(coordinator_actor):
    order = _allocated_with_two_lines(coordinator_actor)

    actions = timeline_actions(order_timeline(order))

    allocation = actions[0]
    assert allocation.actor_kind == "person"
    subjects = sorted(entry.subject for entry in allocation.entries)
    assert subjects[-1] == "order" and [s[:4] for s in subjects[:2]] == ["line", "line"]
    assert len(allocation.entries) == 3
    assert [e.subject for e in actions[1].entries] == ["order"]  # the approval


def test_the_timeline_filters_by_kind_of_actor_and_kind_of_change(coordinator_actor):
    order = _allocated_with_two_lines(coordinator_actor)
    services.order_add_note(order=order, actor=coordinator_actor, text="Crane booked.")
    entries = order_timeline(order)

    by_person = timeline_actions(entries, actor_kind="person")
    notes = timeline_actions(entries, kind="note")

    assert {a.actor_kind for a in by_person} == {"person"} and len(by_person) == 2
    assert [e.detail for a in notes for e in a.entries] == ["Crane booked."]
    assert timeline_actions(entries, actor_kind="client") == []


def test_the_timeline_card_answers_the_filter_and_names_a_value_it_does_not_know(
    coordinator, coordinator_client
):
    order = make_order()
    services.order_add_note(order=order, actor=Actor.person(coordinator), text="Crane booked.")
    url = reverse("orders:timeline", args=[order.number])

    notes = coordinator_client.get(url, {"change": "note"})
    wrong = coordinator_client.get(url, {"actor": "robot"})

    assert notes.status_code == 200
    assert b"Crane booked." in notes.content and b"line " not in notes.content
    assert wrong.status_code == 400
    assert b"Who: Select a valid choice" in wrong.content
