"""Approval checks, the four-eyes rule and coordinator edits of draft lines."""

import pytest

from catalog.choices import ItemLifecycle
from oms.actors import Actor
from oms.errors import (
    ApprovalBlocked,
    FourEyesViolation,
    StaleVersion,
    TransitionNotAllowed,
    ValidationFailed,
)
from orders import services
from orders.choices import LineSource, OrderStatus, ProjectStatus
from orders.models import Order
from tests.factories import SETUP, ItemFactory, ProjectFactory, UserFactory, make_order, order_in

pytestmark = pytest.mark.django_db


def test_approval_lists_every_problem_at_once(acting_system):
    successor = ItemFactory()
    replaced = ItemFactory(lifecycle=ItemLifecycle.REPLACED, replaced_by=successor)
    discontinued = ItemFactory()
    project = ProjectFactory()
    order = make_order(
        project=project, lines=[(replaced, 2), (discontinued, 1), (ItemFactory(), 4)]
    )
    discontinued.lifecycle = ItemLifecycle.DISCONTINUED
    discontinued.save()
    project.status = ProjectStatus.ON_HOLD
    project.save()

    with pytest.raises(ApprovalBlocked) as blocked:
        services.order_approve(order=order, actor=SETUP)

    problems = {p.code: p for p in blocked.value.problems}
    assert set(problems) == {"project_inactive", "item_inactive"}
    messages = [p.message for p in blocked.value.problems]
    assert any(f"use {successor.code} instead" in m for m in messages)
    assert any(discontinued.code in m and "discontinued" in m for m in messages)
    assert len(blocked.value.problems) == 3
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_order_without_lines_cannot_be_approved(coordinator_actor):
    order = make_order()
    line = order.lines.get()
    services.order_edit_lines(
        order=order, edits=services.LineEdits(remove=[line.pk]), actor=coordinator_actor
    )

    with pytest.raises(ApprovalBlocked, match="cannot be approved") as blocked:
        services.order_approve(order=order, actor=SETUP)
    assert [p.code for p in blocked.value.problems] == ["no_lines"]


@pytest.fixture
def four_eyes(settings):
    settings.OMS_FOUR_EYES = True


def test_four_eyes_the_editor_cannot_approve(four_eyes, coordinator_actor):
    order = make_order()
    line = order.lines.get()
    services.order_edit_lines(
        order=order, edits=services.LineEdits(quantities={line.pk: 9}), actor=coordinator_actor
    )

    with pytest.raises(FourEyesViolation):
        services.order_approve(order=order, actor=coordinator_actor)

    other = Actor.person(UserFactory(role="coordinator"))
    assert services.order_approve(order=order, actor=other).status == OrderStatus.APPROVED


def test_without_four_eyes_the_editor_may_approve(settings, coordinator_actor):
    settings.OMS_FOUR_EYES = False
    order = make_order()
    line = order.lines.get()
    services.order_edit_lines(
        order=order, edits=services.LineEdits(quantities={line.pk: 9}), actor=coordinator_actor
    )

    assert services.order_approve(order=order, actor=coordinator_actor).status == "approved"


def test_edit_lines_changes_adds_and_removes_in_one_save(coordinator, coordinator_actor):
    keep, drop, new = ItemFactory(), ItemFactory(), ItemFactory()
    order = make_order(lines=[(keep, 2), (drop, 3)])
    keep_line, drop_line = order.lines.get(item=keep), order.lines.get(item=drop)

    order = services.order_edit_lines(
        order=order,
        edits=services.LineEdits(
            quantities={keep_line.pk: 7}, add=[(new, 4)], remove=[drop_line.pk]
        ),
        actor=coordinator_actor,
        expected_version=order.version,
    )

    lines = {line.item_id: line for line in order.lines.all()}
    assert set(lines) == {keep.pk, new.pk}
    assert lines[keep.pk].quantity == 7
    assert (lines[new.pk].quantity, lines[new.pk].source) == (4, LineSource.MANUAL)
    assert order.version == 2
    assert order.lines_edited_by == coordinator
    deleted = drop_line.history.filter(history_type="-").get()
    assert (deleted.actor_kind, deleted.actor_name) == ("person", coordinator.username)


def test_edit_lines_refuses_a_stale_version(coordinator_actor):
    order = make_order()
    line = order.lines.get()
    services.order_edit_lines(
        order=order, edits=services.LineEdits(quantities={line.pk: 6}), actor=coordinator_actor
    )

    with pytest.raises(StaleVersion, match="changed since you loaded it"):
        services.order_edit_lines(
            order=order,
            edits=services.LineEdits(quantities={line.pk: 8}),
            actor=coordinator_actor,
            expected_version=1,
        )
    line.refresh_from_db()
    assert line.quantity == 6


def test_edit_lines_refuses_invalid_edits_as_a_whole(acting_system, coordinator_actor):
    successor = ItemFactory()
    replaced = ItemFactory(lifecycle=ItemLifecycle.REPLACED, replaced_by=successor)
    existing = ItemFactory()
    order = make_order(lines=[(existing, 2)])
    line = order.lines.get()

    with pytest.raises(ValidationFailed) as refused:
        services.order_edit_lines(
            order=order,
            edits=services.LineEdits(quantities={line.pk: 0}, add=[(replaced, 1), (existing, 1)]),
            actor=coordinator_actor,
        )

    codes = sorted(p.code for p in refused.value.problems)
    assert codes == ["duplicate_item", "invalid_quantity", "item_inactive"]
    assert any(successor.code in p.message for p in refused.value.problems)
    line.refresh_from_db()
    assert line.quantity == 2
    assert Order.objects.get(pk=order.pk).version == 1


def test_only_draft_orders_can_be_edited(coordinator_actor):
    order = order_in(OrderStatus.APPROVED)
    line = order.lines.get()

    with pytest.raises(TransitionNotAllowed, match="only draft orders"):
        services.order_edit_lines(
            order=order, edits=services.LineEdits(quantities={line.pk: 1}), actor=coordinator_actor
        )


def test_viewer_cannot_edit_lines(viewer):
    order = make_order()
    line = order.lines.get()

    with pytest.raises(Exception, match="may not edit"):
        services.order_edit_lines(
            order=order,
            edits=services.LineEdits(quantities={line.pk: 1}),
            actor=Actor.person(viewer),
        )


def test_created_order_has_revision_one_with_its_lines():
    item = ItemFactory()

    order = make_order(lines=[(item, 3)], event_id="evt-1")

    revision = order.revisions.get()
    assert (revision.number, revision.event_id) == (1, "evt-1")
    assert revision.delta["lines"]["added"] == [{"item": item.code, "quantity": 3}]
    assert order.number.startswith("MO-")
    assert order.history.get().history_type == "+"


def test_order_numbers_are_unique_and_increasing():
    first, second = make_order(), make_order()

    assert first.number < second.number


def test_a_coordinator_removes_a_line_stock_moved_for_and_the_ledger_keeps_its_order(
    coordinator_actor,
):
    from warehouse.ledger.models import StockMovement
    from warehouse.ledger.reconcile import reconcile_stock

    allocated = order_in(OrderStatus.ALLOCATED, lines=[(ItemFactory(), 2), (ItemFactory(), 3)])
    order = services.order_reject(
        order=allocated, actor=SETUP, reason_code="coordinator_rejected", reason_text="recount"
    )
    line = order.lines.order_by("pk").first()

    services.order_edit_lines(
        order=order, edits=services.LineEdits(remove=[line.pk]), actor=coordinator_actor
    )

    assert not order.lines.filter(pk=line.pk).exists()
    moved = StockMovement.objects.filter(item=line.item).exclude(kind="receipt")
    assert {(m.kind, m.order_id, m.order_line_id) for m in moved} == {
        ("reserve", order.pk, None),
        ("unreserve", order.pk, None),
    }
    assert reconcile_stock().ok


def test_a_line_stock_was_shipped_for_stays_on_the_order(coordinator_actor):
    order = make_order(lines=[(ItemFactory(), 2), (ItemFactory(), 3)])
    line = order.lines.order_by("pk").first()
    type(line).objects.filter(pk=line.pk).update(released_quantity=2)

    with pytest.raises(ValidationFailed) as refused:
        services.order_edit_lines(
            order=order, edits=services.LineEdits(remove=[line.pk]), actor=coordinator_actor
        )

    assert [p.code for p in refused.value.problems] == ["line_shipped"]
    assert order.lines.filter(pk=line.pk).exists()
