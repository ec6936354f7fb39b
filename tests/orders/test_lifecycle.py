"""The order lifecycle of DOMAIN.md: every allowed transition works, every other one
is refused with a clear domain error, and each leaves an audited trail."""

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction

from oms import correlation
from oms.actors import Actor
from oms.errors import ActionForbidden, ReasonRequired, TransitionNotAllowed
from oms.models import OutboxEvent
from orders import services
from orders.choices import OrderStatus, ReasonCode
from orders.models import Order
from tests.factories import SETUP, WarehouseFactory, order_in, stock
from warehouse.ledger.models import StockLevel

S = OrderStatus
pytestmark = pytest.mark.django_db


def _reason():
    return {"reason_code": ReasonCode.COORDINATOR_REJECTED, "reason_text": "wrong antennas"}


def _call(name, order, actor=SETUP):
    """Call the service behind a transition with valid arguments."""
    if name == "approve":
        return services.order_approve(order=order, actor=actor)
    if name == "reject":
        return services.order_reject(order=order, actor=actor, **_reason())
    if name == "cancel":
        return services.order_cancel(order=order, actor=actor, **_reason())
    if name == "allocate":
        warehouse = WarehouseFactory()
        for line in order.lines.all():
            stock(warehouse, line.item, line.quantity)
        return services.order_allocate(order=order, warehouse=warehouse, actor=actor)
    if name == "release":
        return services.order_release(order=order, actor=actor)
    if name == "complete":
        return services.order_complete(order=order, actor=actor)
    if name == "return":
        line = order.lines.first()
        spec = services.ReturnSpec(line=line, quantity=1, condition="good", reason="spare")
        warehouse = WarehouseFactory()
        services.order_record_return(order=order, warehouse=warehouse, lines=[spec], actor=actor)
        return Order.objects.get(pk=order.pk)
    if name == "resolve_close":
        return services.order_resolve_close(order=order, actor=actor)
    if name == "reopen":
        return services.order_reopen(
            order=order,
            actor=actor,
            reason_code=ReasonCode.RETURN_REOPENED,
            reason_text="wrong radios shipped",
        )
    raise AssertionError(name)


# Every transition of DOMAIN.md: the statuses it starts from and where it leads.
ALLOWED = {
    "approve": ({S.DRAFT}, S.APPROVED),
    "reject": ({S.APPROVED, S.ALLOCATED, S.RELEASED}, S.DRAFT),  # a draft is not rejected
    "cancel": ({S.DRAFT, S.APPROVED, S.ALLOCATED}, S.CANCELLED),
    "allocate": ({S.APPROVED}, S.ALLOCATED),
    "release": ({S.ALLOCATED}, S.RELEASED),
    "complete": ({S.RELEASED}, S.CLOSED),
    "return": ({S.CLOSED, S.PARTIALLY_RETURNED}, S.PARTIALLY_RETURNED),
    "resolve_close": ({S.PARTIALLY_RETURNED, S.FULLY_RETURNED}, S.CLOSED),
    "reopen": ({S.PARTIALLY_RETURNED, S.FULLY_RETURNED}, S.DRAFT),
}

ALLOWED_CASES = [(name, source) for name, (sources, _) in ALLOWED.items() for source in sources]
REFUSED_CASES = [
    (name, source)
    for name, (sources, _) in ALLOWED.items()
    for source in S
    if source not in sources
]


@pytest.mark.parametrize(("name", "source"), ALLOWED_CASES)
def test_every_allowed_transition_moves_the_order(name, source):
    order = order_in(source)
    history_before = order.history.count()

    order = _call(name, order)

    assert order.status == ALLOWED[name][1]
    assert order.history.count() == history_before + 1
    latest = order.history.latest()
    assert (latest.actor_kind, latest.actor_name) == ("system", "test-setup")


@pytest.mark.parametrize(("name", "source"), REFUSED_CASES)
def test_every_other_transition_is_refused_and_changes_nothing(name, source):
    order = order_in(source)
    history_before = order.history.count()
    # (the stock _call receives for an allocation is not the transition's doing)
    events = OutboxEvent.objects.exclude(event_type="stock.available")
    events_before = events.count()

    with pytest.raises(TransitionNotAllowed) as refused:
        _call(name, order)

    assert order.number in str(refused.value)
    assert S(source).label.lower() in str(refused.value)
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.status == source
    assert fresh.history.count() == history_before
    assert events.count() == events_before


@pytest.mark.parametrize("name", list(ALLOWED))
def test_each_transition_has_its_own_permission(name):
    perm = services.transition_permission("return_partially" if name == "return" else name)
    app_label, codename = perm.split(".")
    assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists()


@pytest.mark.parametrize("name", list(ALLOWED))
def test_transition_without_permission_is_forbidden(name, viewer):
    source = next(iter(ALLOWED[name][0]))
    order = order_in(source)

    with pytest.raises(ActionForbidden):
        _call(name, order, actor=Actor.person(viewer))

    assert Order.objects.get(pk=order.pk).status == source


def test_client_actor_acts_only_within_its_permissions(warehouse_actor):
    released = order_in(S.RELEASED)
    draft = order_in(S.DRAFT)

    assert services.order_complete(order=released, actor=warehouse_actor).status == S.CLOSED
    with pytest.raises(ActionForbidden):
        services.order_approve(order=draft, actor=warehouse_actor)


def test_coordinator_may_approve_but_not_complete(coordinator_actor):
    draft, released = order_in(S.DRAFT), order_in(S.RELEASED)

    assert services.order_approve(order=draft, actor=coordinator_actor).status == S.APPROVED
    with pytest.raises(ActionForbidden):
        services.order_complete(order=released, actor=coordinator_actor)


@pytest.mark.parametrize(
    ("name", "source"), [("reject", S.APPROVED), ("cancel", S.DRAFT), ("reopen", S.FULLY_RETURNED)]
)
@pytest.mark.parametrize(
    "reason", [{"reason_code": "", "reason_text": "x"}, {"reason_code": "other", "reason_text": ""}]
)
def test_backward_move_without_reason_is_refused(name, source, reason):
    order = order_in(source)
    service = {
        "reject": services.order_reject,
        "cancel": services.order_cancel,
        "reopen": services.order_reopen,
    }[name]

    with pytest.raises(ReasonRequired) as refused:
        service(order=order, actor=SETUP, **reason)

    assert {p.field for p in refused.value.problems} <= {"reason_code", "reason_text"}
    assert Order.objects.get(pk=order.pk).status == source


def test_backward_move_keeps_its_reason_on_the_order_and_in_history():
    order = order_in(S.APPROVED)

    order = services.order_reject(
        order=order,
        actor=SETUP,
        reason_code=ReasonCode.DATA_MISMATCH,
        reason_text="Design shows 3 sectors, site has 2",
    )

    assert (order.reason_code, order.reason_text) == (
        ReasonCode.DATA_MISMATCH,
        "Design shows 3 sectors, site has 2",
    )
    assert "Design shows 3 sectors" in order.history.latest().history_change_reason
    approved = services.order_approve(order=order, actor=SETUP)
    assert (approved.reason_code, approved.reason_text) == ("", "")


def test_writing_the_status_directly_is_refused():
    order = order_in(S.DRAFT)

    with pytest.raises(AttributeError):
        order.status = S.CLOSED


def test_database_refuses_an_unknown_status():
    order = order_in(S.DRAFT)

    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status="shipped")


def test_reject_gives_back_the_reserved_stock():
    warehouse = WarehouseFactory()
    order = order_in(S.ALLOCATED, warehouse=warehouse)
    line = order.lines.get()
    assert StockLevel.objects.get(warehouse=warehouse, item=line.item).reserved == line.quantity

    services.order_reject(order=order, actor=SETUP, **_reason())

    level = StockLevel.objects.get(warehouse=warehouse, item=line.item)
    assert (level.reserved, level.on_hand) == (0, line.quantity)
    line.refresh_from_db()
    assert line.allocated_quantity == 0
    assert level.allocations.filter(status="active").count() == 0


def test_cancel_gives_back_the_reserved_stock():
    warehouse = WarehouseFactory()
    order = order_in(S.ALLOCATED, warehouse=warehouse)

    services.order_cancel(order=order, actor=SETUP, **_reason())

    assert StockLevel.objects.get(warehouse=warehouse).reserved == 0


def test_transition_writes_an_outbox_event_with_the_correlation_id():
    order = order_in(S.DRAFT)

    with correlation.use("req-42"):
        services.order_approve(order=order, actor=SETUP)

    event = OutboxEvent.objects.filter(aggregate_id=str(order.pk)).latest("id")
    assert event.event_type == "order.approved"
    assert event.correlation_id == "req-42"
    assert event.payload["from"] == S.DRAFT
    assert event.payload["to"] == S.APPROVED
    assert event.payload["actor"] == {"kind": "system", "name": "test-setup"}
    assert order.history.latest().correlation_id == "req-42"


def test_an_order_that_failed_midway_leaves_no_trace():
    # given an approved order whose allocation finds no stock at all
    order = order_in(S.APPROVED)
    history_before = order.history.count()
    events_before = OutboxEvent.objects.count()

    with pytest.raises(Exception, match="Not enough stock"):
        services.order_allocate(order=order, warehouse=WarehouseFactory(), actor=SETUP)

    # then nothing changed: a shortage is not a rejection, the order waits
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.status == S.APPROVED
    assert fresh.history.count() == history_before
    assert OutboxEvent.objects.count() == events_before
