"""Exports in a real browser: the coordinator filters the queue, exports it, and the
downloaded file holds every order the filter matches (not only the page shown)."""

import csv
import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from orders.choices import OrderStatus
from tests import factories
from tests.exports import many_orders

# The live server runs in another thread: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="cora", role="coordinator")


def test_the_queue_s_export_buttons_download_the_filtered_orders(sign_in, coordinator):
    # Given 55 draft orders (two pages) and some approved ones in NYC, and others elsewhere
    nyc = factories.ProjectFactory(market=factories.MarketFactory(code="NYC"))
    drafts = many_orders(55, project=nyc)
    many_orders(4, project=nyc, status=OrderStatus.APPROVED)
    many_orders(3, project=factories.ProjectFactory())
    page = sign_in(coordinator)
    page.get_by_role("link", name="Orders", exact=True).click()
    page.wait_for_url(re.compile(r"/orders/$"), wait_until="load")
    # When the coordinator filters to NYC's drafts
    page.locator("#status-tabs").get_by_role("link", name="Draft").click()
    expect(page).to_have_url(re.compile(r"status=draft"))
    page.get_by_label("Market", exact=True).select_option("NYC")
    expect(page).to_have_url(re.compile(r"market=NYC"))
    expect(page.locator("#queue-count")).to_contain_text("55 orders, page 1 of 2")
    # and exports them as CSV
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    # Then the file is named after the filters and holds the 55 drafts, every page of them
    assert re.fullmatch(
        r"orders_status-draft_market-NYC_\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename
    )
    with open(download.path(), encoding="utf-8-sig") as file:
        rows = list(csv.reader(file))
    assert rows[0][:3] == ["Order", "Kind", "Status"]
    assert sorted(row[0] for row in rows[1:]) == sorted(o.number for o in drafts)
    assert {row[2] for row in rows[1:]} == {"Draft"}

    # And the Excel export holds the same orders
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export Excel").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as file:
        sheet = openpyxl.load_workbook(io.BytesIO(file.read()), read_only=True).worksheets[0]
        numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(numbers) == sorted(o.number for o in drafts)
