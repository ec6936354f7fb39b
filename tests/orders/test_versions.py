"""Every service that changes an order checks the version its caller read
(`expected_version`), on the locked row, inside its own transaction: a stale version is
refused and nothing is written."""

from dataclasses import dataclass

import pytest

from oms.errors import StaleVersion
from oms.models import OutboxEvent
from orders import services
from orders.choices import OrderStatus, ReasonCode
from orders.models import Order, OrderLine
from tests.concurrency import at_once
from tests.factories import SETUP, ItemFactory, WarehouseFactory, make_order, order_in, stock
from warehouse.integration.models import Release
from warehouse.ledger.choices import Condition
from warehouse.ledger.models import Allocation, Return, StockLevel, Warehouse

pytestmark = pytest.mark.django_db

REASON = {"reason_code": ReasonCode.OTHER, "reason_text": "checked on site"}


@dataclass
class Given:
    """An order in the status a service starts from, the warehouse that shipped or
    stocks it, and a coordinator to assign it to."""

    order: Order
    warehouse: Warehouse
    coordinator: object

    @property
    def its_return(self) -> Return:
        return Return.objects.get(order=self.order)

    def one_more(self) -> services.LineEdits:
        line = self.order.lines.get()
        return services.LineEdits(quantities={line.pk: line.quantity + 1})


# Each service: the status its order starts from, and how it is called with a version.
CALLS = {
    "approve": (
        OrderStatus.DRAFT,
        lambda g, v: services.order_approve(order=g.order, actor=SETUP, expected_version=v),
    ),
    "reject": (
        OrderStatus.APPROVED,
        lambda g, v: services.order_reject(
            order=g.order, actor=SETUP, **REASON, expected_version=v
        ),
    ),
    "cancel": (
        OrderStatus.DRAFT,
        lambda g, v: services.order_cancel(
            order=g.order, actor=SETUP, **REASON, expected_version=v
        ),
    ),
    "edit_lines": (
        OrderStatus.DRAFT,
        lambda g, v: services.order_edit_lines(
            order=g.order, actor=SETUP, edits=g.one_more(), expected_version=v
        ),
    ),
    "edit_header": (
        OrderStatus.DRAFT,
        lambda g, v: services.order_edit_header(
            order=g.order, actor=SETUP, national_priority=1, reason="rush", expected_version=v
        ),
    ),
    "allocate": (
        OrderStatus.APPROVED,
        lambda g, v: services.order_allocate(
            order=g.order, actor=SETUP, warehouse=g.warehouse, expected_version=v
        ),
    ),
    "release": (
        OrderStatus.ALLOCATED,
        lambda g, v: services.order_release(order=g.order, actor=SETUP, expected_version=v),
    ),
    "complete": (
        OrderStatus.RELEASED,
        lambda g, v: services.order_complete(order=g.order, actor=SETUP, expected_version=v),
    ),
    "record_return": (
        OrderStatus.CLOSED,
        lambda g, v: services.order_record_return(
            order=g.order,
            actor=SETUP,
            warehouse=g.warehouse,
            lines=[services.ReturnSpec(g.order.lines.get(), 1, Condition.GOOD, "spare")],
            expected_version=v,
        ),
    ),
    "resolve_close": (
        OrderStatus.PARTIALLY_RETURNED,
        lambda g, v: services.order_resolve_close(order=g.order, actor=SETUP, expected_version=v),
    ),
    "reopen": (
        OrderStatus.PARTIALLY_RETURNED,
        lambda g, v: services.order_reopen(
            order=g.order, actor=SETUP, **REASON, expected_version=v
        ),
    ),
    "return_close": (
        OrderStatus.PARTIALLY_RETURNED,
        lambda g, v: services.return_close(
            return_record=g.its_return, actor=SETUP, reason="final", expected_version=v
        ),
    ),
    "return_reopen": (
        OrderStatus.PARTIALLY_RETURNED,
        lambda g, v: services.return_reopen(
            return_record=g.its_return, actor=SETUP, reason_text="redo", expected_version=v
        ),
    ),
    "return_replace": (
        OrderStatus.PARTIALLY_RETURNED,
        lambda g, v: services.return_replace(
            return_record=g.its_return, actor=SETUP, reason="again", expected_version=v
        ),
    ),
    "assign": (
        OrderStatus.DRAFT,
        lambda g, v: services.order_assign(
            order=g.order, actor=SETUP, assignee=g.coordinator, expected_version=v
        ),
    ),
    "revise": (
        OrderStatus.DRAFT,
        lambda g, v: services.order_revise(
            order=g.order,
            actor=SETUP,
            header={},
            lines=[services.LineSpec(item=ItemFactory(), quantity=2)],
            expected_version=v,
        ),
    ),
    "flag": (
        OrderStatus.DRAFT,
        lambda g, v: services.order_flag(
            order=g.order, actor=SETUP, note="check the mast", expected_version=v
        ),
    ),
}


@pytest.fixture
def given(coordinator):
    def make(status: OrderStatus) -> Given:
        warehouse = WarehouseFactory()
        order = order_in(status, warehouse=warehouse)
        if status == OrderStatus.APPROVED:  # stock to allocate it by hand
            for line in order.lines.all():
                stock(warehouse, line.item, line.quantity)
        return Given(Order.objects.get(pk=order.pk), warehouse, coordinator)

    return make


def _someone_else_changes(order: Order) -> int:
    """The version the caller read, before someone else saved the order."""
    seen = Order.objects.get(pk=order.pk).version
    services.order_flag(order=order, note="someone else's change", actor=SETUP)
    return seen


def _written(order: Order) -> dict:
    """All a service could write for an order: the order and its lines as stored, the
    history and events, releases, returns, stock and allocations."""
    return {
        "order": Order.objects.filter(pk=order.pk).values().get(),
        "lines": list(OrderLine.objects.filter(order=order).order_by("pk").values()),
        "orders": Order.objects.count(),
        "history": (Order.history.count(), OrderLine.history.count()),
        "events": OutboxEvent.objects.count(),
        "releases": list(Release.objects.order_by("pk").values()),
        "returns": list(Return.objects.order_by("pk").values()),
        "stock": list(StockLevel.objects.order_by("pk").values()),
        "allocations": list(Allocation.objects.order_by("pk").values()),
    }


@pytest.mark.parametrize("name", CALLS)
def test_a_stale_version_is_refused_and_nothing_is_written(name, given):
    status, call = CALLS[name]
    g = given(status)
    seen = _someone_else_changes(g.order)
    before = _written(g.order)

    with pytest.raises(StaleVersion, match="changed since you loaded it") as refused:
        call(g, seen)

    assert refused.value.version == seen + 1
    assert _written(g.order) == before


@pytest.mark.parametrize("name", CALLS)
def test_the_current_version_is_accepted(name, given):
    status, call = CALLS[name]
    g = given(status)
    before = _written(g.order)

    call(g, g.order.version)

    assert _written(g.order) != before


def test_any_of_several_versions_may_be_the_current_one():
    order = make_order()

    services.order_approve(order=order, actor=SETUP, expected_version={order.version, 7})

    assert Order.objects.get(pk=order.pk).status == OrderStatus.APPROVED


def test_several_versions_none_of_them_current_are_refused():
    order = make_order()

    with pytest.raises(StaleVersion, match=r"version 7 or 8, now 1"):
        services.order_approve(order=order, actor=SETUP, expected_version=frozenset({8, 7}))

    assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_no_versions_at_all_match_nothing():
    order = make_order()

    with pytest.raises(StaleVersion):
        services.order_approve(order=order, actor=SETUP, expected_version=frozenset())


def test_a_named_version_is_checked_instead_of_the_status_the_caller_loaded():
    # Given an order the caller loaded as a draft, approved since by someone else:
    loaded = make_order()
    approved = services.order_approve(order=loaded, actor=SETUP)

    # when the caller names the version it has read since, it acts on the order as it is.
    services.order_reject(order=loaded, actor=SETUP, **REASON, expected_version=approved.version)

    assert Order.objects.get(pk=loaded.pk).status == OrderStatus.DRAFT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_writers_with_the_same_version_one_wins(attempt, coordinator):
    # Given two people who read the same version (each with the order freshly loaded,
    # so that only the version can tell them apart):
    order = make_order()
    seen = order.version

    outcomes = at_once(
        lambda: services.order_edit_header(
            order=Order.objects.get(pk=order.pk),
            actor=SETUP,
            national_priority=1,
            reason="rush",
            expected_version=seen,
        ),
        lambda: services.order_assign(
            order=Order.objects.get(pk=order.pk),
            assignee=coordinator,
            actor=SETUP,
            expected_version=seen,
        ),
    )

    winners = [o for o in outcomes if isinstance(o, Order)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], StaleVersion)
    assert Order.objects.get(pk=order.pk).version == seen + 1
