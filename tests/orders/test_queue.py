"""The order queue at size: text search and deep pages."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oms.paginators import IdsFirstPaginator
from orders import selectors
from orders.filters import OrderFilter
from orders.forms import SORTS
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db


def search(text: str) -> set[str]:
    orders = OrderFilter({"q": text}, queryset=Order.objects.all()).qs
    return set(orders.values_list("number", flat=True))


def test_search_matches_the_start_of_an_order_number_project_id_or_site_code_in_any_case():
    by_project = factories.make_order(
        project=factories.ProjectFactory(external_id="PRJ-NORTH-7", site_code="NYC0042")
    )
    by_site = factories.make_order(
        project=factories.ProjectFactory(external_id="PRJ-SOUTH-1", site_code="BOS0099")
    )
    assert search("prj-north") == {by_project.number}
    assert search("bos00") == {by_site.number}
    assert search(by_site.number.lower()) == {by_site.number}
    assert search("MO-") == {by_project.number, by_site.number}


def test_search_matches_any_part_from_three_characters_and_the_start_below():
    order = factories.make_order(
        project=factories.ProjectFactory(external_id="PRJ-77", site_code="AB12")
    )
    assert search("b12") == {order.number}
    assert search("j-77") == {order.number}
    assert search(order.number[-4:]) == {order.number}
    assert search("77") == set()  # two characters match the start only
    assert search("AB") == {order.number}


def test_search_finds_orders_of_many_matching_projects_through_a_subquery(monkeypatch):
    # Given more matching projects than are listed by id
    monkeypatch.setattr(selectors, "PROJECT_IDS_LISTED", 1)
    orders = [
        factories.make_order(project=factories.ProjectFactory(site_code=f"LAX{n:03d}"))
        for n in range(3)
    ]
    other = factories.make_order(project=factories.ProjectFactory(site_code="SFO001"))
    # Then the search still finds the orders of every one of them, and only those
    assert search("lax") == {o.number for o in orders}
    assert other.number not in search("lax")


def test_search_reads_the_orders_on_their_own_table():
    order = factories.make_order()
    queryset = OrderFilter({"q": order.number}, queryset=Order.objects.all()).qs
    sql = str(queryset.query)
    assert "orders_project" not in sql
    assert set(queryset.values_list("number", flat=True)) == {order.number}


@pytest.mark.parametrize("read_whole", [0, 2000], ids=["sliced", "read-whole"])
@pytest.mark.parametrize("sort", list(SORTS))
def test_each_page_holds_the_orders_of_its_slice_in_the_same_order(sort, read_whole):
    for priority in (3, 1, 2, 1, 3, 2, 1):
        factories.make_order(national_priority=priority)
    ordering = SORTS[sort][1]
    filtered = Order.objects.filter(national_priority__lte=2).order_by(*ordering)
    plain = Paginator(filtered, 2)
    ids_first = IdsFirstPaginator(filtered, 2, rows=selectors.order_list())
    ids_first.read_whole = read_whole
    assert ids_first.count == plain.count == 5 and ids_first.num_pages == 3
    for number in plain.page_range:
        assert list(ids_first.page(number)) == list(plain.page(number))


@pytest.mark.parametrize("read_whole", [0, 2000], ids=["sliced", "read-whole"])
def test_a_page_reads_its_ids_then_its_rows_with_the_related_rows(
    read_whole, django_assert_num_queries
):
    for _ in range(3):
        factories.make_order()
    paginator = IdsFirstPaginator(
        Order.objects.order_by("-updated_at", "-id"), 2, rows=selectors.order_list()
    )
    paginator.read_whole = read_whole
    paginator.count  # noqa: B018 (counted first, as the page's template does)
    with django_assert_num_queries(2) as queries:
        rows = list(paginator.page(2))
        assert [o.project.market.region.code for o in rows]
    ids_sql = queries.captured_queries[0]["sql"]
    assert "orders_project" not in ids_sql
    assert ("LIMIT" in ids_sql) is (read_whole == 0)


def test_a_deep_queue_page_runs_as_many_queries_as_the_first(coordinator_client, monkeypatch):
    monkeypatch.setattr("orders.web.views.PAGE_SIZE", 2)
    orders = [factories.make_order() for _ in range(7)]
    coordinator_client.get(reverse("orders:queue"))  # the session is read in once
    with CaptureQueriesContext(connection) as first_queries:
        first = coordinator_client.get(reverse("orders:queue")).content.decode()
    with CaptureQueriesContext(connection) as deep_queries:
        deep = coordinator_client.get(reverse("orders:queue"), {"page": 4}).content.decode()
    assert len(deep_queries) == len(first_queries)
    assert "page 4 of 4" in deep
    assert orders[0].number in deep and orders[0].number not in first


# --- PostgreSQL indexes -----------------------------------------------------------------


def plan(queryset) -> str:
    """PostgreSQL's plan of the queryset with sequential scans priced out, so that the
    plan shows whether an index can serve it at all (on a small table the planner
    would rather read the table)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_the_order_number_search_is_served_by_its_trigram_index_on_postgresql():
    order = factories.make_order()
    orders = OrderFilter({"q": order.number[3:-1].lower()}, queryset=Order.objects.all()).qs
    assert "order_number_trgm_idx" in plan(orders.order_by())


@pytest.mark.postgres
def test_a_search_shorter_than_a_trigram_is_served_by_the_prefix_index_on_postgresql():
    factories.make_order()
    orders = OrderFilter({"q": "mo"}, queryset=Order.objects.all()).qs
    assert "order_number_search_idx" in plan(orders.order_by())


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("model", "column", "index"),
    [
        ("orders.Project", "external_id", "project_external_id_trgm_idx"),
        ("orders.Project", "site_code", "project_site_code_trgm_idx"),
        ("orders.Project", "name", "project_name_trgm_idx"),
        ("catalog.Item", "code", "item_code_trgm_idx"),
        ("catalog.Item", "description", "item_description_trgm_idx"),
    ],
)
def test_the_project_and_item_searches_are_served_by_trigram_indexes_on_postgresql(
    model, column, index
):
    from django.apps import apps

    from oms.text_search import text_match

    queryset = apps.get_model(model).objects.filter(text_match([column], "nyc")).order_by()
    assert index in plan(queryset)


@pytest.mark.postgres
def test_the_lines_of_the_matching_items_are_read_from_their_item_order_index_on_postgresql():
    from orders.models import OrderLine

    item = factories.ItemFactory()
    factories.make_order(lines=[(item, 2)])
    lines = OrderLine.objects.filter(item_id__in=[item.pk]).order_by().values("order_id")
    assert "orderline_item_order_idx" in plan(lines)
