"""The ledger explains every stock level: reconcile_stock finds any level that it does
not, set-based, and the nightly job mails the operations team about it."""

import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models import F

from oms.models import JobRun
from orders.choices import OrderStatus
from tests.factories import ItemFactory, WarehouseFactory, order_in, stock
from warehouse.ledger.models import Allocation, StockLevel, StockMovement
from warehouse.ledger.reconcile import ALLOCATIONS, Difference, reconcile_stock
from warehouse.tasks import reconcile_stock as nightly

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse():
    """Orders in every stage of fulfilment at one warehouse, plus plain stock."""
    warehouse = WarehouseFactory()
    for status in (
        OrderStatus.ALLOCATED,
        OrderStatus.RELEASED,
        OrderStatus.CLOSED,
        OrderStatus.PARTIALLY_RETURNED,
        OrderStatus.FULLY_RETURNED,
    ):
        order_in(status, warehouse=warehouse)
    stock(warehouse, ItemFactory(), 40)
    return warehouse


def run_command():
    out = io.StringIO()
    call_command("reconcile_stock", stdout=out)
    return out.getvalue()


def test_stock_moved_only_through_the_services_reconciles(warehouse):
    result = reconcile_stock()

    assert result.ok and result.differences == ()
    assert result.levels == StockLevel.objects.count() == 6
    assert result.movements == StockMovement.objects.count()
    assert "every level matches its ledger" in run_command()


def test_a_level_changed_behind_the_ledger_is_reported(warehouse):
    level = StockLevel.objects.filter(warehouse=warehouse).first()
    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + 3)

    result = reconcile_stock()

    assert result.differences == (
        Difference(warehouse.code, level.item.code, "on_hand", level.on_hand + 3, level.on_hand),
    )


def test_the_command_prints_the_table_and_exits_non_zero_on_a_mismatch(warehouse):
    level = StockLevel.objects.filter(warehouse=warehouse).first()
    StockLevel.objects.filter(pk=level.pk).update(damaged=2)
    out = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("reconcile_stock", stdout=out)

    assert raised.value.returncode == 1
    assert "1 difference(s)" in str(raised.value)
    header, _rule, row = out.getvalue().splitlines()
    assert header.split() == ["warehouse", "item", "field", "level", "ledger"]
    assert row.split() == [warehouse.code, level.item.code, "damaged", "2", "0"]


def test_reserved_without_its_active_allocation_is_reported(warehouse):
    allocation = Allocation.objects.filter(status=Allocation.Status.ACTIVE).first()
    Allocation.objects.filter(pk=allocation.pk).update(status=Allocation.Status.UNRESERVED)
    level = allocation.stock_level

    result = reconcile_stock()

    assert result.differences == (
        Difference(warehouse.code, level.item.code, ALLOCATIONS, level.reserved, 0),
    )


def test_movements_of_a_level_that_does_not_exist_are_reported(warehouse):
    item = ItemFactory()
    StockMovement.objects.create(
        kind="receipt",
        quantity=7,
        warehouse=warehouse,
        item=item,
        actor_kind="system",
        actor_name="rogue import",
    )

    result = reconcile_stock()

    assert result.differences == (Difference(warehouse.code, item.code, "on_hand", 0, 7),)


def test_reconciling_reads_the_same_few_queries_for_any_number_of_levels(
    django_assert_num_queries,
):
    warehouse = WarehouseFactory()
    for _ in range(2):
        stock(warehouse, ItemFactory(), 5)
    with django_assert_num_queries(5) as few:  # 3 reads, in a savepoint here
        reconcile_stock()
    for _ in range(20):
        stock(warehouse, ItemFactory(), 5)
    with django_assert_num_queries(len(few.captured_queries)):
        assert reconcile_stock().levels == 22


def test_the_nightly_job_is_a_job_run_and_mails_ops_only_on_a_mismatch(warehouse, settings):
    settings.OMS_OPS_EMAILS = ["ops@example.com"]
    settings.OMS_OPS_EMAIL_MODE = "failures"

    assert nightly()["differences"] == 0
    run = JobRun.objects.get(name="reconcile_stock")
    assert run.status == JobRun.Status.SUCCEEDED and run.detail["levels"] == 6
    assert mail.outbox == []

    level = StockLevel.objects.filter(warehouse=warehouse).first()
    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + 1)
    assert nightly()["differences"] == 1

    failed = JobRun.objects.filter(name="reconcile_stock").order_by("-id").first()
    assert failed.status == JobRun.Status.FAILED and failed.failed == 1
    assert failed.detail["sample"][0]["item"] == level.item.code
    (message,) = mail.outbox
    assert message.subject == f"[OMS] reconcile_stock #{failed.pk} failed"
    assert "1 difference(s) between stock levels and the ledger" in message.body
    assert level.item.code in message.body and "on_hand" in message.body


def test_beat_runs_the_check_nightly(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["reconcile-stock"]
    assert schedule["task"] == "warehouse.tasks.reconcile_stock"
    assert (schedule["schedule"].hour, schedule["schedule"].minute) == ({2}, {30})
