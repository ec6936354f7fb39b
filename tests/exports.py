"""Reading the CSV and Excel files the back office's exports answer, and writing many
orders at once for them."""

from __future__ import annotations

import csv
import datetime
import io

import openpyxl
from django.db import transaction

from oms import counters
from orders.choices import OrderStatus, OrderType, PlanType
from orders.models import Order, order_number


def body(response) -> bytes:
    assert response.streaming, "an export is streamed"
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    """The rows of a CSV export, header first."""
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list[object]]:
    """The rows of an Excel export (its one sheet), header first."""
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(body(response)), read_only=True)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def filename(response) -> str:
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    return disposition.split("filename=", 1)[1].strip('"')


def many_orders(count: int, *, project, status=OrderStatus.DRAFT, **fields) -> list[Order]:
    """`count` orders of one project written in bulk (no lines, no history)."""
    numbers = counters.take("order", count)
    with transaction.atomic():
        return Order.objects.bulk_create(
            [
                Order(
                    number=order_number(number),
                    project=project,
                    order_type=fields.get("order_type", OrderType.RADIO),
                    plan_type=fields.get("plan_type", PlanType.NEW_BUILD),
                    national_priority=fields.get("national_priority", 3),
                    need_by=fields.get("need_by", datetime.date(2026, 12, 31)),
                    status=status,
                    reason_text=fields.get("reason_text", ""),
                )
                for number in numbers
            ],
            batch_size=2000,
        )
