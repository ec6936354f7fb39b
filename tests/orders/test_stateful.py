"""Random sequences of order and stock services keep every invariant after every step:
the status is legal, history has one entry per change with an actor, stock is never
negative, reserved never exceeds on hand, and the ledger explains every level."""

import datetime

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from oms.actors import Actor
from oms.errors import DomainError
from orders import services
from orders.choices import OrderStatus, OrderType, PlanType, ReasonCode
from orders.models import Order
from tests.factories import SETUP, ItemFactory, ProjectFactory, WarehouseFactory, stock
from warehouse.ledger.choices import MOVEMENT_EFFECTS
from warehouse.ledger.models import Allocation, StockLevel, StockMovement
from warehouse.ledger.services import stock_adjust

ACTOR = Actor.system("stateful")
REASON = {"reason_code": ReasonCode.OTHER, "reason_text": "random step"}


class OrderLifecycleMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint of the test's transaction and is rolled back.
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.project = ProjectFactory()
        self.items = [ItemFactory() for _ in range(3)]
        self.warehouses = [WarehouseFactory() for _ in range(2)]
        for warehouse in self.warehouses:
            for item in self.items:
                stock(warehouse, item, 6)
        self.orders: list[int] = []
        self.expected_history: dict[int, int] = {}

    def teardown(self):
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    # --- Steps ----------------------------------------------------------------------

    def _order(self, index):
        return Order.objects.get(pk=self.orders[index % len(self.orders)])

    def _attempt(self, index, call):
        """Run one service on one order. A refusal must change nothing; a success adds
        exactly one history record to the order."""
        if not self.orders:
            return
        order = self._order(index)
        before = (order.status, order.version)
        try:
            with transaction.atomic():
                call(order)
        except DomainError:
            after = Order.objects.get(pk=order.pk)
            assert (after.status, after.version) == before
        else:
            self.expected_history[order.pk] += 1

    @rule(quantities=st.lists(st.integers(1, 5), min_size=1, max_size=3, unique=False))
    def create(self, quantities):
        order = services.order_create(
            project=self.project,
            order_type=OrderType.RADIO,
            plan_type=PlanType.CAPACITY,
            national_priority=2,
            need_by=datetime.date(2026, 12, 1),
            lines=[
                services.LineSpec(item=item, quantity=q)
                for item, q in zip(self.items, quantities, strict=False)
            ],
            actor=ACTOR,
        )
        self.orders.append(order.pk)
        self.expected_history[order.pk] = 1

    @rule(index=st.integers(0, 20))
    def approve(self, index):
        self._attempt(index, lambda o: services.order_approve(order=o, actor=ACTOR))

    @rule(index=st.integers(0, 20))
    def reject(self, index):
        self._attempt(index, lambda o: services.order_reject(order=o, actor=ACTOR, **REASON))

    @rule(index=st.integers(0, 20))
    def cancel(self, index):
        self._attempt(index, lambda o: services.order_cancel(order=o, actor=ACTOR, **REASON))

    @rule(index=st.integers(0, 20), warehouse=st.integers(0, 1))
    def allocate(self, index, warehouse):
        self._attempt(
            index,
            lambda o: services.order_allocate(
                order=o, warehouse=self.warehouses[warehouse], actor=ACTOR
            ),
        )

    @rule(index=st.integers(0, 20))
    def release(self, index):
        self._attempt(index, lambda o: services.order_release(order=o, actor=ACTOR))

    @rule(index=st.integers(0, 20), short=st.integers(0, 2))
    def complete(self, index, short):
        def call(order):
            shipped = {
                line.pk: max(line.allocated_quantity - short, 0) for line in order.lines.all()
            }
            services.order_complete(order=order, actor=ACTOR, shipped=shipped)

        self._attempt(index, call)

    @rule(index=st.integers(0, 20), quantity=st.integers(1, 3), damaged=st.booleans())
    def record_return(self, index, quantity, damaged):
        def call(order):
            line = order.lines.order_by("pk").first()
            spec = services.ReturnSpec(
                line=line,
                quantity=quantity,
                condition="damaged" if damaged else "good",
                reason="random return",
            )
            services.order_record_return(
                order=order, warehouse=self.warehouses[0], lines=[spec], actor=ACTOR
            )

        self._attempt(index, call)

    @rule(index=st.integers(0, 20))
    def resolve_close(self, index):
        self._attempt(index, lambda o: services.order_resolve_close(order=o, actor=ACTOR))

    @rule(index=st.integers(0, 20))
    def reopen(self, index):
        self._attempt(index, lambda o: services.order_reopen(order=o, actor=ACTOR, **REASON))

    @rule(index=st.integers(0, 20), quantity=st.integers(1, 4))
    def edit_lines(self, index, quantity):
        def call(order):
            line = order.lines.order_by("pk").first()
            services.order_edit_lines(
                order=order,
                edits=services.LineEdits(quantities={line.pk: quantity}),
                actor=ACTOR,
            )

        self._attempt(index, call)

    @rule(warehouse=st.integers(0, 1), item=st.integers(0, 2), quantity=st.integers(-4, 4))
    def adjust_stock(self, warehouse, item, quantity):
        if quantity == 0:
            return
        try:
            with transaction.atomic():
                stock_adjust(
                    warehouse=self.warehouses[warehouse],
                    item=self.items[item],
                    quantity=quantity,
                    reason="count",
                    actor=SETUP,
                )
        except DomainError:
            pass

    # --- Invariants -----------------------------------------------------------------

    @invariant()
    def statuses_are_legal(self):
        statuses = set(Order.objects.filter(pk__in=self.orders).values_list("status", flat=True))
        assert statuses <= set(OrderStatus.values)

    @invariant()
    def history_has_one_entry_per_change_with_an_actor(self):
        for pk, expected in self.expected_history.items():
            records = Order.history.filter(id=pk)
            assert records.count() == expected
            assert not records.filter(actor_kind="").exists()
            assert not records.filter(actor_name="").exists()

    @invariant()
    def only_allocated_and_released_orders_hold_stock(self):
        holding = OrderStatus.ALLOCATED, OrderStatus.RELEASED
        for order in Order.objects.filter(pk__in=self.orders).prefetch_related("lines"):
            for line in order.lines.all():
                active = line.allocations.filter(status=Allocation.Status.ACTIVE)
                held = active.aggregate(q=Sum("quantity"))["q"] or 0
                assert line.allocated_quantity == held
                if order.status not in holding:
                    assert held == 0, (order.number, order.status)

    @invariant()
    def stock_is_never_negative_or_over_reserved(self):
        for level in StockLevel.objects.all():
            assert level.on_hand >= 0
            assert 0 <= level.reserved <= level.on_hand
            assert level.damaged >= 0

    @invariant()
    def the_ledger_and_allocations_explain_every_level(self):
        for level in StockLevel.objects.all():
            totals = [0, 0, 0]
            for row in (
                StockMovement.objects.filter(warehouse_id=level.warehouse_id, item_id=level.item_id)
                .values("kind")
                .annotate(q=Sum("quantity"))
            ):
                for i, sign in enumerate(MOVEMENT_EFFECTS[row["kind"]]):
                    totals[i] += sign * row["q"]
            assert totals == [level.on_hand, level.reserved, level.damaged]
            active = level.allocations.filter(status=Allocation.Status.ACTIVE)
            assert (active.aggregate(q=Sum("quantity"))["q"] or 0) == level.reserved


@pytest.mark.django_db
def test_random_service_sequences_keep_every_invariant():
    run_state_machine_as_test(
        OrderLifecycleMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
