"""Coordinator edits of a draft beyond its lines: the need-by date and priority with a
reason, kits expanded into lines, several items added in one save."""

import datetime

import pytest
from django.utils import timezone

from catalog.choices import ItemLifecycle
from catalog.services import kit_version_draft, kit_version_publish, kit_version_set_components
from oms import audit
from oms.actors import Actor
from oms.errors import (
    FourEyesViolation,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from oms.models import OutboxEvent
from orders import services
from orders.choices import LineSource, OrderStatus
from orders.models import Order
from orders.web.timeline import order_timeline
from tests.factories import SETUP, ItemFactory, UserFactory, make_kit, make_order, order_in

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _today():
    return timezone.localdate()


# --- Need-by date and priority ----------------------------------------------------------


def test_need_by_and_priority_change_with_the_reason_and_actor_in_the_history(
    coordinator, coordinator_actor
):
    order = make_order(national_priority=3)
    new_date = _today() + 30 * DAY

    order = services.order_edit_header(
        order=order,
        actor=coordinator_actor,
        need_by=new_date,
        national_priority=1,
        reason="Site moved up: tower crew booked early",
        expected_version=order.version,
    )

    order.refresh_from_db()
    assert (order.need_by, order.national_priority, order.version) == (new_date, 1, 2)
    assert order.revision == 1  # a design revision counts upstream designs only
    record = order.history.latest()
    assert record.history_change_reason == "Site moved up: tower crew booked early"
    assert (record.actor_kind, record.actor_name) == ("person", coordinator.username)
    entry = next(e for e in order_timeline(order) if e.reason.startswith("Site"))
    assert {c.field for c in entry.changes} >= {"need_by", "national_priority"}
    event = OutboxEvent.objects.filter(event_type="order.header_changed").get()
    assert event.payload["changed"] == {
        "need_by": [datetime.date(2026, 12, 31).isoformat(), new_date.isoformat()],
        "national_priority": [3, 1],
    }
    assert event.payload["reason"] == "Site moved up: tower crew booked early"


def test_a_need_by_date_before_today_is_refused_naming_the_field(coordinator_actor):
    order = make_order()
    yesterday = _today() - DAY

    with pytest.raises(ValidationFailed) as refused:
        services.order_edit_header(
            order=order, actor=coordinator_actor, need_by=yesterday, reason="typo"
        )

    (problem,) = refused.value.problems
    assert (problem.code, problem.field) == ("in_the_past", "need_by")
    assert problem.message.startswith("Need by:") and str(yesterday) in problem.message
    assert Order.objects.get(pk=order.pk).need_by == datetime.date(2026, 12, 31)


def test_today_is_an_allowed_need_by_date(coordinator_actor):
    order = services.order_edit_header(
        order=make_order(), actor=coordinator_actor, need_by=_today(), reason="needed now"
    )
    assert order.need_by == _today()


def test_an_overdue_need_by_date_sent_unchanged_does_not_block_a_priority_change(
    coordinator_actor,
):
    past = _today() - 10 * DAY
    order = make_order(need_by=past)

    order = services.order_edit_header(
        order=order, actor=coordinator_actor, need_by=past, national_priority=2, reason="late"
    )

    assert (order.need_by, order.national_priority) == (past, 2)


@pytest.mark.parametrize("priority", [0, 6, -1, True, "1"])
def test_a_priority_outside_the_choices_is_refused(coordinator_actor, priority):
    order = make_order()
    with pytest.raises(ValidationFailed) as refused:
        services.order_edit_header(
            order=order, actor=coordinator_actor, national_priority=priority, reason="x"
        )
    assert [p.field for p in refused.value.problems] == ["national_priority"]
    assert "P1 critical" in refused.value.problems[0].message


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_a_header_change_needs_a_reason(coordinator_actor, reason):
    order = make_order()
    with pytest.raises(ValidationFailed) as refused:
        services.order_edit_header(
            order=order, actor=coordinator_actor, national_priority=1, reason=reason
        )
    assert [p.field for p in refused.value.problems] == ["reason"]
    assert Order.objects.get(pk=order.pk).national_priority == 3


def test_a_header_change_refuses_a_stale_version(coordinator_actor):
    order = make_order()
    services.order_edit_header(
        order=order, actor=coordinator_actor, national_priority=2, reason="first"
    )
    with pytest.raises(StaleVersion, match="changed since you loaded it"):
        services.order_edit_header(
            order=order,
            actor=coordinator_actor,
            national_priority=1,
            reason="second",
            expected_version=1,
        )
    assert Order.objects.get(pk=order.pk).national_priority == 2


def test_only_a_draft_gets_a_new_need_by_date_or_priority(coordinator_actor):
    order = order_in(OrderStatus.APPROVED)
    with pytest.raises(TransitionNotAllowed, match="only draft orders"):
        services.order_edit_header(
            order=order, actor=coordinator_actor, national_priority=1, reason="rush"
        )


def test_a_viewer_cannot_change_the_need_by_date(viewer):
    with pytest.raises(Exception, match="may not edit"):
        services.order_edit_header(
            order=make_order(),
            actor=Actor.person(viewer),
            need_by=_today() + DAY,
            reason="rush",
        )


def test_the_same_need_by_date_and_priority_change_nothing(coordinator_actor):
    order = make_order(national_priority=3)
    order = services.order_edit_header(
        order=order,
        actor=coordinator_actor,
        need_by=order.need_by,
        national_priority=3,
        reason="checked",
    )
    assert order.version == 1
    assert not OutboxEvent.objects.filter(event_type="order.header_changed").exists()


def test_four_eyes_who_changed_the_priority_cannot_approve(settings, coordinator_actor):
    settings.OMS_FOUR_EYES = True
    order = make_order()
    services.order_edit_header(
        order=order, actor=coordinator_actor, national_priority=1, reason="rush"
    )

    with pytest.raises(FourEyesViolation, match="need-by date or priority"):
        services.order_approve(order=order, actor=coordinator_actor)

    other = Actor.person(UserFactory(role="coordinator"))
    assert services.order_approve(order=order, actor=other).status == OrderStatus.APPROVED


# --- Kits -------------------------------------------------------------------------------


def test_a_kit_added_twice_over_is_expanded_into_its_items_times_two(
    coordinator, coordinator_actor
):
    antenna, cable, bracket = ItemFactory(), ItemFactory(), ItemFactory()
    kit = make_kit("KIT-SEC", [(antenna, 1), (cable, 3), (bracket, 2)])
    order = make_order(lines=[(cable, 4)])

    order = services.order_edit_lines(
        order=order,
        edits=services.LineEdits(kits=[(kit, 2)]),
        actor=coordinator_actor,
        expected_version=order.version,
    )

    lines = {line.item_id: line for line in order.lines.all()}
    assert {pk: line.quantity for pk, line in lines.items()} == {
        antenna.pk: 2,
        cable.pk: 4 + 6,
        bracket.pk: 4,
    }
    # New lines name the kit; the coordinator added them, so the next design keeps them.
    for item in (antenna, bracket):
        assert (lines[item.pk].source, lines[item.pk].kit) == (LineSource.MANUAL, kit)
    assert (lines[cable.pk].source, lines[cable.pk].kit) == (LineSource.UPSTREAM, None)
    assert order.lines_edited_by == coordinator
    record = order.history.latest()
    assert record.history_change_reason == "lines edited, kit KIT-SEC (version 1) added 2 times"
    event = OutboxEvent.objects.filter(event_type="order.lines_changed").get()
    assert event.payload["kits"] == [{"kit": "KIT-SEC", "version": 1, "count": 2}]


def test_a_kit_is_expanded_in_the_version_in_effect_today(coordinator_actor):
    old_item, new_item = ItemFactory(), ItemFactory()
    kit = make_kit("KIT-V", [(old_item, 1)], effective_from=_today() - 100 * DAY)
    version = kit_version_draft(kit=kit, effective_from=_today() - DAY, actor=SETUP)
    kit_version_set_components(version=version, components=[(new_item, 5)], actor=SETUP)
    kit_version_publish(version=version, actor=SETUP)
    later = kit_version_draft(kit=kit, effective_from=_today() + 10 * DAY, actor=SETUP)
    kit_version_set_components(version=later, components=[(old_item, 9)], actor=SETUP)
    kit_version_publish(version=later, actor=SETUP)

    order = services.order_edit_lines(
        order=make_order(), edits=services.LineEdits(kits=[(kit, 1)]), actor=coordinator_actor
    )

    assert order.lines.get(item=new_item).quantity == 5
    assert not order.lines.filter(item=old_item).exists()


def test_a_kit_with_a_replaced_item_orders_its_successor(coordinator_actor):
    successor = ItemFactory()
    replaced = ItemFactory()
    kit = make_kit("KIT-R", [(replaced, 2)])
    replaced.lifecycle, replaced.replaced_by = ItemLifecycle.REPLACED, successor
    with audit.acting(SETUP):
        replaced.save()

    order = services.order_edit_lines(
        order=make_order(), edits=services.LineEdits(kits=[(kit, 3)]), actor=coordinator_actor
    )

    line = order.lines.get(item=successor)
    assert (line.quantity, line.replaces_item) == (6, replaced)


def test_a_kit_without_a_live_version_today_is_refused_and_nothing_changes(coordinator_actor):
    kit = make_kit("KIT-LATER", [(ItemFactory(), 1)], effective_from=_today() + 5 * DAY)
    order = make_order()

    with pytest.raises(ValidationFailed) as refused:
        services.order_edit_lines(
            order=order, edits=services.LineEdits(kits=[(kit, 1)]), actor=coordinator_actor
        )

    (problem,) = refused.value.problems
    assert problem.code == "unknown_kit"
    assert "KIT-LATER has no live version" in problem.message
    assert order.lines.count() == 1
    assert Order.objects.get(pk=order.pk).version == 1


@pytest.mark.parametrize("count", [0, -2, 10_001])
def test_the_number_of_kits_must_be_sensible(coordinator_actor, count):
    kit = make_kit("KIT-N", [(ItemFactory(), 1)])
    with pytest.raises(ValidationFailed, match="not saved") as refused:
        services.order_edit_lines(
            order=make_order(),
            edits=services.LineEdits(kits=[(kit, count)]),
            actor=coordinator_actor,
        )
    assert "number of kits" in refused.value.problems[0].message


def test_a_line_that_kits_would_make_too_large_is_refused(coordinator_actor):
    item = ItemFactory()
    kit = make_kit("KIT-BIG", [(item, 500)])
    with pytest.raises(ValidationFailed) as refused:
        services.order_edit_lines(
            order=make_order(lines=[(item, 1)]),
            edits=services.LineEdits(kits=[(kit, 2001)]),
            actor=coordinator_actor,
        )
    assert "more than one line can order" in refused.value.problems[0].message


def test_an_item_added_by_hand_and_by_a_kit_in_one_save_is_one_line(coordinator_actor):
    item = ItemFactory()
    kit = make_kit("KIT-M", [(item, 2)])
    order = services.order_edit_lines(
        order=make_order(),
        edits=services.LineEdits(add=[(item, 1)], kits=[(kit, 2)]),
        actor=coordinator_actor,
    )
    line = order.lines.get(item=item)
    assert (line.quantity, line.source) == (5, LineSource.MANUAL)


def test_a_kit_line_added_by_a_coordinator_survives_the_next_upstream_revision(
    coordinator_actor,
):
    kit_item = ItemFactory()
    kit = make_kit("KIT-KEEP", [(kit_item, 1)])
    order = make_order()
    designed = order.lines.get()
    services.order_edit_lines(
        order=order, edits=services.LineEdits(kits=[(kit, 1)]), actor=coordinator_actor
    )

    services.order_revise(
        order=order,
        header={},
        lines=[services.LineSpec(item=designed.item, quantity=7)],
        actor=SETUP,
    )

    assert order.lines.get(item=kit_item).quantity == 1


# --- Several items in one save ----------------------------------------------------------


def test_several_items_are_added_in_one_save_and_one_version(coordinator_actor):
    items = [ItemFactory() for _ in range(3)]
    order = services.order_edit_lines(
        order=make_order(),
        edits=services.LineEdits(add=[(item, n + 1) for n, item in enumerate(items)]),
        actor=coordinator_actor,
    )
    assert {line.item_id: line.quantity for line in order.lines.all() if line.item in items} == {
        item.pk: n + 1 for n, item in enumerate(items)
    }
    assert order.version == 2
