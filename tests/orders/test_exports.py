"""Exports of the queue and of an order's lines: every matching order (all pages), in
the queue's order, as CSV and Excel, for whoever may see the queue."""

import datetime

import pytest
from django.urls import reverse

from orders import services
from orders.choices import OrderStatus, Priority, ReasonCode
from orders.web import views
from tests import factories
from tests.exports import csv_rows, filename, many_orders, xlsx_rows

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today().isoformat()


@pytest.fixture
def nyc():
    market = factories.MarketFactory(code="NYC")
    return factories.ProjectFactory(market=market, site_code="NYC0001")


@pytest.fixture
def boston():
    market = factories.MarketFactory(code="BOS")
    return factories.ProjectFactory(market=market, site_code="BOS0001")


def test_the_queue_export_holds_every_matching_order_not_just_the_first_page(
    coordinator_client, nyc, boston
):
    # Given 120 draft orders in NYC, more than two pages of the queue
    wanted = many_orders(120, project=nyc)
    many_orders(7, project=boston)
    many_orders(5, project=nyc, status=OrderStatus.CANCELLED)
    assert views.PAGE_SIZE == 50
    query = {"status": "draft", "market": "NYC"}
    # When the coordinator exports the queue with these filters
    response = coordinator_client.get(reverse("orders:export_csv"), query)
    # Then the file holds all 120, and only them
    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[0][:3] == ["Order", "Kind", "Status"]
    assert sorted(row[0] for row in rows[1:]) == sorted(o.number for o in wanted)
    assert {(row[2], row[9]) for row in rows[1:]} == {("Draft", "NYC")}


@pytest.mark.parametrize("sort", ["updated", "need_by", "priority", "number"])
def test_the_export_keeps_the_queue_s_sort(coordinator_client, nyc, sort):
    for priority, days in [(3, 5), (1, 9), (2, 1), (1, 2)]:
        factories.make_order(
            project=nyc,
            national_priority=priority,
            need_by=datetime.date(2026, 12, 1) + datetime.timedelta(days=days),
        )
    queue = coordinator_client.get(reverse("orders:queue"), {"sort": sort})
    shown = [o.number for o in queue.context["page"]]
    exported = csv_rows(coordinator_client.get(reverse("orders:export_csv"), {"sort": sort}))
    assert [row[0] for row in exported[1:]] == shown


def test_the_export_finds_what_the_queue_s_search_finds(coordinator_client, nyc, boston):
    found = factories.make_order(project=nyc)
    factories.make_order(project=boston)
    rows = csv_rows(coordinator_client.get(reverse("orders:export_csv"), {"q": "nyc00"}))
    assert [row[0] for row in rows[1:]] == [found.number]


def test_the_excel_export_opens_and_holds_the_same_rows_as_the_csv(coordinator_client, nyc, boston):
    many_orders(120, project=nyc, national_priority=Priority.P1)
    many_orders(3, project=boston)
    query = {"market": "NYC", "priority": "1", "sort": "number"}
    csv = csv_rows(coordinator_client.get(reverse("orders:export_csv"), query))
    response = coordinator_client.get(reverse("orders:export_xlsx"), query)
    assert response.status_code == 200
    sheet = xlsx_rows(response)
    assert len(sheet) == len(csv) == 121
    assert sheet[0] == csv[0]
    assert [row[0] for row in sheet] == [row[0] for row in csv]
    first = sheet[1]
    assert first[csv[0].index("Priority")] == 1
    assert first[csv[0].index("Need by")] == datetime.datetime(2026, 12, 31)


def test_the_export_file_is_named_after_the_filters(coordinator_client, nyc):
    factories.make_order(project=nyc)
    query = "status=draft&status=approved&market=NYC&page=2&sort=need_by"
    response = coordinator_client.get(reverse("orders:export_csv") + "?" + query)
    assert filename(response) == f"orders_status-draft-approved_market-NYC_{TODAY}.csv"
    xlsx = coordinator_client.get(reverse("orders:export_xlsx"))
    assert filename(xlsx) == f"orders_{TODAY}.xlsx"


def test_text_that_would_run_as_a_formula_is_neutralised_in_both_files(coordinator_client, nyc):
    # Given a reason a person typed that a spreadsheet would run as a formula
    services.order_cancel(
        order=factories.make_order(project=nyc),
        actor=factories.SETUP,
        reason_code=ReasonCode.NO_LONGER_NEEDED,
        reason_text='=HYPERLINK("http://evil","x")',
    )
    csv = csv_rows(coordinator_client.get(reverse("orders:export_csv")))
    why = csv[0].index("Why")
    assert csv[1][why] == '\'=HYPERLINK("http://evil","x")'
    sheet = xlsx_rows(coordinator_client.get(reverse("orders:export_xlsx")))
    assert sheet[1][why] == '=HYPERLINK("http://evil","x")'  # a text cell, not a formula


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "flying"),
        ("gated", "maybe"),
        ("updated_since", "yesterday"),
        ("priority", "0"),
        ("sort", "cheapest"),
    ],
)
@pytest.mark.parametrize("name", ["orders:export_csv", "orders:export_xlsx"])
def test_an_invalid_filter_value_is_a_400_naming_it_and_nothing_is_exported(
    coordinator_client, name, param, value
):
    factories.make_order()
    response = coordinator_client.get(reverse(name), {param: value})
    assert response.status_code == 400
    assert not response.streaming and "Content-Disposition" not in response
    assert f"<strong>{param}</strong>" in response.content.decode()
    assert f'href="{reverse("orders:queue")}?{param}={value}"' in response.content.decode()


def test_the_export_needs_a_login(client):
    response = client.get(reverse("orders:export_csv"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_whoever_can_see_the_queue_can_export_it_and_no_one_else(client, viewer_client, nyc):
    order = factories.make_order(project=nyc)
    for name in ("orders:export_csv", "orders:export_xlsx"):
        assert viewer_client.get(reverse(name)).status_code == 200
    lines = viewer_client.get(reverse("orders:lines_csv", args=[order.number]))
    assert lines.status_code == 200
    client.force_login(factories.UserFactory())  # no role
    assert client.get(reverse("orders:export_csv")).status_code == 403
    assert client.get(reverse("orders:lines_xlsx", args=[order.number])).status_code == 403


@pytest.mark.parametrize("name", ["orders:export_csv", "orders:export_xlsx"])
def test_the_export_runs_a_fixed_number_of_queries(
    coordinator_client, nyc, name, django_assert_max_num_queries
):
    many_orders(3, project=nyc)
    with django_assert_max_num_queries(10) as few:
        rows = csv_or_xlsx(coordinator_client.get(reverse(name), {"q": "nyc"}), name)
    assert len(rows) == 4
    many_orders(300, project=nyc)
    with django_assert_max_num_queries(len(few.captured_queries)):
        rows = csv_or_xlsx(coordinator_client.get(reverse(name), {"q": "nyc"}), name)
    assert len(rows) == 304


def csv_or_xlsx(response, name):
    return xlsx_rows(response) if name.endswith("xlsx") else csv_rows(response)


def test_an_export_of_5000_orders_holds_5000_rows(coordinator_client, nyc):
    many_orders(5000, project=nyc)
    rows = csv_rows(coordinator_client.get(reverse("orders:export_csv"), {"market": "NYC"}))
    assert len(rows) == 5001
    assert len({row[0] for row in rows[1:]}) == 5000


# --- An order's lines -------------------------------------------------------------------


def test_the_lines_export_holds_the_order_s_lines_as_its_page_shows_them(
    coordinator_client, django_assert_max_num_queries
):
    items = [factories.ItemFactory(code=code) for code in ("B-200", "A-100", "C-300")]
    order = factories.make_order(lines=[(items[0], 4), (items[1], 2), (items[2], 9)])
    other = factories.make_order()
    with django_assert_max_num_queries(8):
        rows = csv_rows(coordinator_client.get(reverse("orders:lines_csv", args=[order.number])))
    assert rows[0][:3] == ["Order", "Item", "Description"]
    assert [(r[0], r[1], r[7]) for r in rows[1:]] == [
        (order.number, "A-100", "2"),
        (order.number, "B-200", "4"),
        (order.number, "C-300", "9"),
    ]
    assert other.number not in {r[0] for r in rows}
    response = coordinator_client.get(reverse("orders:lines_xlsx", args=[order.number]))
    sheet = xlsx_rows(response)
    assert [(r[1], r[7]) for r in sheet[1:]] == [("A-100", 2), ("B-200", 4), ("C-300", 9)]
    assert filename(response) == f"order_{order.number}_lines_{TODAY}.xlsx"


def test_an_item_description_that_would_run_as_a_formula_is_neutralised(coordinator_client):
    item = factories.ItemFactory(description="@SUM(1+1)*cmd|' /C calc'!A0")
    order = factories.make_order(lines=[(item, 1)])
    rows = csv_rows(coordinator_client.get(reverse("orders:lines_csv", args=[order.number])))
    assert rows[1][2] == "'@SUM(1+1)*cmd|' /C calc'!A0"


def test_the_lines_export_of_an_unknown_order_is_a_404(coordinator_client):
    assert coordinator_client.get(reverse("orders:lines_csv", args=["MO-NOPE"])).status_code == 404


# --- The buttons ------------------------------------------------------------------------


def test_the_queue_offers_the_exports_with_its_filters(coordinator_client, nyc):
    factories.make_order(project=nyc)
    page = coordinator_client.get(
        reverse("orders:queue"), {"market": "NYC", "sort": "need_by", "page": "1"}
    ).content.decode()
    assert f'href="{reverse("orders:export_csv")}?market=NYC&amp;sort=need_by"' in page
    assert f'href="{reverse("orders:export_xlsx")}?market=NYC&amp;sort=need_by"' in page
    # and the fragment htmx swaps in carries them as the filters change
    fragment = coordinator_client.get(
        reverse("orders:queue"), {"market": "NYC"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert f'href="{reverse("orders:export_csv")}?market=NYC"' in fragment


def test_the_order_page_offers_the_lines_exports(coordinator_client):
    order = factories.make_order()
    page = coordinator_client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert reverse("orders:lines_csv", args=[order.number]) in page
    assert reverse("orders:lines_xlsx", args=[order.number]) in page
