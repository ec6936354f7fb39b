"""Resolving returns: close, reopen to draft, or a replacement order; each recorded on
the return with the actor, the time and the reason."""

import pytest

from oms.actors import Actor
from oms.errors import ActionForbidden, ReasonRequired, TransitionNotAllowed, ValidationFailed
from oms.models import OutboxEvent
from orders import services
from orders.choices import LineSource, OrderKind, OrderStatus, ReasonCode
from orders.models import Order
from tests.factories import SETUP, ItemFactory, WarehouseFactory, make_order, stock
from warehouse.ledger.choices import ReturnResolution
from warehouse.ledger.models import Return

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse():
    return WarehouseFactory()


@pytest.fixture
def closed(warehouse):
    """A CLOSED order of two lines, 4 x A and 3 x B, all shipped from `warehouse`."""
    a, b = ItemFactory(), ItemFactory()
    order = make_order(lines=[(a, 4), (b, 3)])
    order = services.order_approve(order=order, actor=SETUP)
    stock(warehouse, a, 4)
    stock(warehouse, b, 3)
    order = services.order_allocate(order=order, warehouse=warehouse, actor=SETUP)
    order = services.order_release(order=order, actor=SETUP)
    return services.order_complete(order=order, actor=SETUP)


def give_back(order, warehouse, *quantities, condition="good"):
    """Record a return of the given quantities of the order's lines (in item order)."""
    order = Order.objects.get(pk=order.pk)
    lines = list(order.lines.order_by("item__code"))
    specs = [
        services.ReturnSpec(line=line, quantity=q, condition=condition, reason="not needed")
        for line, q in zip(lines, quantities, strict=False)
        if q
    ]
    return services.order_record_return(order=order, warehouse=warehouse, lines=specs, actor=SETUP)


@pytest.fixture
def coordinator_actor(coordinator):
    return Actor.person(coordinator)


def status(order):
    return Order.objects.get(pk=order.pk).status


def test_closing_a_return_records_who_when_and_why_and_closes_the_order(
    closed, warehouse, coordinator_actor, coordinator
):
    record = give_back(closed, warehouse, 1)

    services.return_close(
        return_record=record, actor=coordinator_actor, reason="Spare unit, keep it in stock"
    )

    record.refresh_from_db()
    assert record.resolution == ReturnResolution.CLOSED
    assert (record.resolved_by, record.resolved_by_name) == (coordinator, coordinator.username)
    assert record.resolved_at is not None
    assert record.resolution_reason == "Spare unit, keep it in stock"
    assert status(closed) == OrderStatus.CLOSED
    event = OutboxEvent.objects.filter(event_type="return.resolved").get()
    assert event.payload["resolution"] == "closed" and event.payload["order"] == closed.number
    latest = Order.objects.get(pk=closed.pk).history.first()
    assert latest.history_user == coordinator


def test_the_order_closes_only_once_no_return_of_it_waits(closed, warehouse, coordinator_actor):
    first = give_back(closed, warehouse, 1)
    second = give_back(closed, warehouse, 0, 1)

    services.return_close(return_record=first, actor=coordinator_actor, reason="spare")
    assert status(closed) == OrderStatus.PARTIALLY_RETURNED

    services.return_close(return_record=second, actor=coordinator_actor, reason="spare too")
    assert status(closed) == OrderStatus.CLOSED


def test_reopening_sends_the_order_to_draft_and_resolves_every_waiting_return(
    closed, warehouse, coordinator_actor
):
    first = give_back(closed, warehouse, 1)
    second = give_back(closed, warehouse, 0, 2)

    services.return_reopen(
        return_record=first, actor=coordinator_actor, reason_text="Faulty radios, reorder"
    )

    order = Order.objects.get(pk=closed.pk)
    assert order.status == OrderStatus.DRAFT
    assert (order.reason_code, order.reason_text) == (
        ReasonCode.RETURN_REOPENED,
        "Faulty radios, reorder",
    )
    assert set(Return.objects.values_list("pk", "resolution")) == {
        (first.pk, ReturnResolution.REOPENED),
        (second.pk, ReturnResolution.REOPENED),
    }
    assert [line.outstanding_quantity for line in order.lines.order_by("item__code")] == [1, 2]


def test_a_replacement_order_carries_the_returned_quantities_and_closes_the_original(
    closed, warehouse, coordinator_actor
):
    record = give_back(closed, warehouse, 2, 1)
    a, b = (line.item for line in closed.lines.order_by("item__code"))

    replacement = services.return_replace(
        return_record=record, actor=coordinator_actor, reason="Wrong variant shipped"
    )

    assert (replacement.kind, replacement.parent_id, replacement.status) == (
        OrderKind.REPLACEMENT,
        closed.pk,
        OrderStatus.DRAFT,
    )
    assert (replacement.project_id, replacement.order_type) == (
        closed.project_id,
        closed.order_type,
    )
    assert sorted(
        (line.item_id, line.quantity, line.source) for line in replacement.lines.all()
    ) == sorted([(a.pk, 2, LineSource.MANUAL), (b.pk, 1, LineSource.MANUAL)])
    record.refresh_from_db()
    assert record.resolution == ReturnResolution.REPLACED
    assert record.replacement_order == replacement
    assert status(closed) == OrderStatus.CLOSED
    created = replacement.history.last()
    assert created.history_change_reason == (
        f"replacement for return #{record.pk} of {closed.number}: Wrong variant shipped"
    )


def test_good_and_damaged_returns_of_one_item_are_replaced_together(
    closed, warehouse, coordinator_actor
):
    line = closed.lines.order_by("item__code").first()
    record = services.order_record_return(
        order=closed,
        warehouse=warehouse,
        actor=SETUP,
        lines=[
            services.ReturnSpec(line=line, quantity=1, condition="good", reason="spare"),
            services.ReturnSpec(line=line, quantity=2, condition="damaged", reason="dented"),
        ],
    )

    replacement = services.return_replace(
        return_record=record, actor=coordinator_actor, reason="replace all three"
    )

    assert list(replacement.lines.values_list("item_id", "quantity")) == [(line.item_id, 3)]


def dented_and_spare(closed, warehouse):
    """A return of 3 damaged A and 2 good B; the return and its two lines."""
    a, b = closed.lines.order_by("item__code")
    record = services.order_record_return(
        order=closed,
        warehouse=warehouse,
        actor=SETUP,
        lines=[
            services.ReturnSpec(line=a, quantity=3, condition="damaged", reason="dented"),
            services.ReturnSpec(line=b, quantity=2, condition="good", reason="spare"),
        ],
    )
    dented, spare = record.lines.order_by("pk")
    return record, dented, spare


def test_a_replacement_carries_only_the_lines_and_quantities_the_coordinator_chose(
    closed, warehouse, coordinator_actor
):
    record, dented, spare = dented_and_spare(closed, warehouse)

    replacement = services.return_replace(
        return_record=record,
        actor=coordinator_actor,
        reason="two dented units are enough",
        quantities={dented.pk: 2, spare.pk: 0},
    )

    item = dented.order_line.item_id
    assert list(replacement.lines.values_list("item_id", "quantity")) == [(item, 2)]


@pytest.mark.parametrize(
    "chosen, field",
    [
        (lambda d, s: {d.pk: 4}, "replace_{d}"),  # more than came back
        (lambda d, s: {d.pk: -1}, "replace_{d}"),
        (lambda d, s: {d.pk: 0, s.pk: 0}, "quantities"),  # nothing chosen
        (lambda d, s: {10**9: 1}, "replace_1000000000"),  # not a line of this return
    ],
)
def test_a_replacement_refuses_quantities_it_cannot_carry_naming_the_line(
    closed, warehouse, coordinator_actor, chosen, field
):
    record, dented, spare = dented_and_spare(closed, warehouse)

    with pytest.raises(ValidationFailed) as refused:
        services.return_replace(
            return_record=record,
            actor=coordinator_actor,
            reason="replace",
            quantities=chosen(dented, spare),
        )

    assert field.format(d=dented.pk) in [p.field for p in refused.value.problems]
    assert Return.objects.get(pk=record.pk).resolution == ""
    assert not Order.objects.filter(kind=OrderKind.REPLACEMENT).exists()


def test_a_return_is_resolved_once(closed, warehouse, coordinator_actor):
    record = give_back(closed, warehouse, 1)
    services.return_close(return_record=record, actor=coordinator_actor, reason="spare")

    with pytest.raises(TransitionNotAllowed, match="already resolved"):
        services.return_replace(return_record=record, actor=coordinator_actor, reason="again")

    assert Order.objects.filter(kind=OrderKind.REPLACEMENT).count() == 0


def test_resolving_needs_a_reason_and_the_permission(closed, warehouse, viewer, coordinator_actor):
    record = give_back(closed, warehouse, 1)

    with pytest.raises(ReasonRequired):
        services.return_close(return_record=record, actor=coordinator_actor, reason="  ")
    with pytest.raises(ActionForbidden):
        services.return_close(return_record=record, actor=Actor.person(viewer), reason="x")

    record.refresh_from_db()
    assert record.resolution == "" and status(closed) == OrderStatus.PARTIALLY_RETURNED


def test_closing_the_order_from_its_page_or_the_api_resolves_its_waiting_returns(
    closed, warehouse, coordinator_actor
):
    record = give_back(closed, warehouse, 1)

    services.order_resolve_close(order=record.order, actor=coordinator_actor, note="write off")

    record.refresh_from_db()
    assert (record.resolution, record.resolution_reason) == (ReturnResolution.CLOSED, "write off")


def test_the_replacement_is_allocated_like_any_order(closed, warehouse, coordinator_actor):
    record = give_back(closed, warehouse, 2)

    replacement = services.return_replace(
        return_record=record, actor=coordinator_actor, reason="site still needs two"
    )
    replacement = services.order_approve(order=replacement, actor=SETUP)
    replacement = services.order_allocate(order=replacement, warehouse=warehouse, actor=SETUP)

    assert replacement.status == OrderStatus.ALLOCATED
    assert replacement.lines.get().allocated_quantity == 2
