"""The queue's controls: status tabs with counts, filter chips, market and region choices,
the need-by range, search, page size and saved views; and hostile values in each."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.choices import OrderStatus
from orders.filters import OrderFilter
from orders.models import Order, SavedView
from orders.services import saved_views
from tests import factories

pytestmark = pytest.mark.django_db

QUEUE = "/orders/"


def numbers(response) -> set[str]:
    return {o.number for o in response.context["page"].object_list}


def tab_counts(response) -> dict[str, int]:
    return {tab.status: tab.count for tab in response.context["tabs"]}


@pytest.fixture
def nyc():
    return factories.MarketFactory(
        code="NYC", name="New York", region=factories.RegionFactory(code="EAST")
    )


@pytest.fixture
def sea():
    return factories.MarketFactory(
        code="SEA", name="Seattle", region=factories.RegionFactory(code="WEST", name="West")
    )


# --- Status tabs ------------------------------------------------------------------------


def test_each_status_tab_counts_the_orders_the_other_filters_let_through(
    coordinator_client, nyc, sea
):
    # Given drafts and approved orders in two markets
    in_nyc = factories.ProjectFactory(market=nyc)
    drafts = [factories.make_order(project=in_nyc) for _ in range(2)]
    factories.order_in(OrderStatus.APPROVED, project=in_nyc)
    factories.make_order(project=factories.ProjectFactory(market=sea))
    # When the queue shows the drafts of New York
    response = coordinator_client.get(QUEUE, {"market": "NYC", "status": "draft"})
    # Then each tab counts New York's orders in its status; All counts them all
    counts = tab_counts(response)
    assert counts[""] == 3 and counts["draft"] == 2 and counts["approved"] == 1
    assert counts["released"] == 0
    assert numbers(response) == {o.number for o in drafts}
    assert response.context["page"].paginator.count == 2
    tabs = {tab.status: tab for tab in response.context["tabs"]}
    assert tabs["draft"].current and not tabs[""].current
    assert [t.label for t in response.context["tabs"]] == ["All", *OrderStatus.labels]
    page = response.content.decode()
    assert 'aria-current="page">Draft <span class="count">2</span>' in page
    assert 'aria-label="Lifecycle tabs"' in page


def test_a_tab_link_keeps_the_other_filters_and_drops_the_page(coordinator_client, nyc):
    factories.make_order(project=factories.ProjectFactory(market=nyc))
    response = coordinator_client.get(QUEUE, {"market": "NYC", "status": "draft", "page": "1"})
    tabs = {tab.status: tab for tab in response.context["tabs"]}
    assert tabs["approved"].query == "market=NYC&status=approved"
    assert tabs[""].query == "market=NYC"


def test_the_all_tab_of_no_other_filter_shows_every_order_not_the_default_view(
    coordinator_client, coordinator
):
    SavedView.objects.create(
        owner=coordinator, name="Drafts", query="status=draft", is_default=True
    )
    response = coordinator_client.get(QUEUE, {"status": "approved"})
    assert response.context["tabs"][0].query == "view=all"


def test_the_tabs_are_counted_in_one_query_that_also_counts_the_page(coordinator_client):
    for status in (OrderStatus.DRAFT, OrderStatus.APPROVED):
        factories.order_in(status)
    coordinator_client.get(QUEUE)
    with CaptureQueriesContext(connection) as queries:
        response = coordinator_client.get(QUEUE, {"q": "MO-", "sort": "updated"})
    sqls = [q["sql"] for q in queries.captured_queries]
    grouped = [sql for sql in sqls if "GROUP BY" in sql and "orders_order" in sql]
    assert len(grouped) == 1
    assert not [sql for sql in sqls if sql.startswith("SELECT COUNT(*)") and "orders_order" in sql]
    assert response.context["page"].paginator.count == 2


def test_htmx_answers_carry_the_tabs_and_chips_out_of_band(coordinator_client):
    factories.make_order()
    response = coordinator_client.get(
        QUEUE, {"status": "draft", "priority": "3"}, headers={"HX-Request": "true"}
    )
    fragment = response.content.decode()
    assert '<nav id="status-tabs"' in fragment and 'id="queue-chips"' in fragment
    assert fragment.count('hx-swap-oob="true"') == 2


# --- Chips and choices ------------------------------------------------------------------


def test_each_active_filter_is_a_chip_that_links_to_the_queue_without_it(coordinator_client, nyc):
    response = coordinator_client.get(
        QUEUE + "?market=NYC&priority=1&priority=2&q=sea&page=2&sort=need_by"
    )
    chips = [(c.label, c.text, c.without) for c in response.context["chips"]]
    assert ("Market", "NYC · New York", "priority=1&priority=2&q=sea&sort=need_by") in chips
    assert ("Priority", "P1 critical", "market=NYC&priority=2&q=sea&sort=need_by") in chips
    assert ("Search", "sea", "market=NYC&priority=1&priority=2&sort=need_by") in chips
    page = response.content.decode()
    assert '<span id="chip-1">Market: NYC · New York</span>' in page
    assert 'aria-label="Remove" aria-describedby="chip-1"' in page


def test_the_last_chip_removed_shows_every_order(coordinator_client):
    response = coordinator_client.get(QUEUE, {"gated": "true"})
    (chip,) = response.context["chips"]
    assert chip.without == ""
    assert 'href="?view=all" data-remove-name="gated"' in response.content.decode()


def test_market_and_region_are_choices_of_the_known_ones(coordinator_client, nyc, sea):
    factories.make_order(project=factories.ProjectFactory(market=nyc))
    page = coordinator_client.get(QUEUE).content.decode()
    assert '<option value="NYC">NYC · New York</option>' in page
    assert '<option value="WEST">WEST · West</option>' in page
    response = coordinator_client.get(QUEUE, {"region": "EAST"})
    assert response.context["page"].paginator.count == 1


@pytest.mark.parametrize(("name", "label"), [("market", "Market"), ("region", "Region")])
def test_an_unknown_market_or_region_is_a_form_error_naming_it(coordinator_client, name, label):
    response = coordinator_client.get(QUEUE, {name: "ATLANTIS"})
    assert response.status_code == 200
    assert f"{label} ({name}): ATLANTIS is not the code of a" in response.content.decode()


def test_the_api_still_reads_a_market_code_nobody_has_as_no_orders(api, nyc):
    factories.make_order(project=factories.ProjectFactory(market=nyc))
    assert api.get("/api/v1/orders/", {"market": "ATLANTIS"}).json()["count"] == 0
    assert api.get("/api/v1/orders/", {"market": "NYC"}).json()["count"] == 1


def test_the_choice_lists_are_read_once_per_page(coordinator_client, nyc):
    factories.make_order(project=factories.ProjectFactory(market=nyc))
    with CaptureQueriesContext(connection) as queries:
        coordinator_client.get(QUEUE, {"market": "NYC", "region": "EAST", "assignee": "me"})
    sqls = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sqls if 'FROM "orders_market"' in s]) == 1
    assert len([s for s in sqls if 'FROM "auth_user"' in s and "auth_user_groups" in s]) == 1


# --- Need-by range ----------------------------------------------------------------------


def test_the_need_by_range_keeps_the_orders_needed_within_it(coordinator_client, api):
    early = factories.make_order(need_by=datetime.date(2026, 11, 1))
    middle = factories.make_order(need_by=datetime.date(2026, 12, 1))
    factories.make_order(need_by=datetime.date(2027, 1, 1))
    response = coordinator_client.get(
        QUEUE, {"need_by_from": "2026-11-01", "need_by_to": "2026-12-01"}
    )
    assert numbers(response) == {early.number, middle.number}
    body = api.get("/api/v1/orders/", {"need_by_from": "2026-11-15"}).json()
    assert body["count"] == 2
    body = api.get("/api/v1/orders/", {"need_by_to": "2026-11-01"}).json()
    assert [row["number"] for row in body["results"]] == [early.number]


@pytest.mark.parametrize("value", ["2026-02-30", "01/11/2026", "tomorrow", "99999-01-01"])
def test_a_bad_need_by_date_is_a_form_error_and_a_400_over_the_api(coordinator_client, api, value):
    response = coordinator_client.get(QUEUE, {"need_by_from": value})
    assert response.status_code == 200
    assert "Need by from (need_by_from): Give a date as YYYY-MM-DD" in response.content.decode()
    answer = api.get("/api/v1/orders/", {"need_by_to": value})
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == ["need_by_to"]


def test_the_schema_documents_the_need_by_range_and_the_search(client):
    schema = client.get("/api/v1/schema/", headers={"Accept": "application/json"}).json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/orders/"]["get"]["parameters"]}
    assert parameters["need_by_from"]["schema"] == {"type": "string", "format": "date"}
    assert parameters["need_by_to"]["schema"] == {"type": "string", "format": "date"}
    assert "site name" in parameters["q"]["description"]
    assert "description of an item" in parameters["q"]["description"]


# --- Search -----------------------------------------------------------------------------


def search(text: str) -> set[str]:
    orders = OrderFilter({"q": text}, queryset=Order.objects.all()).qs
    return set(orders.values_list("number", flat=True))


def test_the_search_finds_a_site_by_its_name_and_an_order_by_an_item_on_it():
    named = factories.make_order(
        project=factories.ProjectFactory(name="Harbor Tower rooftop", site_code="BOS1")
    )
    antenna = factories.ItemFactory(code="ANT-77", description="Panel antenna 65 degree")
    with_antenna = factories.make_order(lines=[(antenna, 3)])
    factories.make_order()
    assert search("tower") == {named.number}
    assert search("PANEL ANT") == {with_antenna.number}
    assert search("t-77") == {with_antenna.number}


def test_the_search_finds_orders_of_many_matching_items_through_a_subquery(monkeypatch):
    from orders import selectors

    monkeypatch.setattr(selectors, "ITEM_IDS_LISTED", 1)
    items = [factories.ItemFactory(description=f"Jumper cable {n}") for n in range(3)]
    orders = [factories.make_order(lines=[(item, 1)]) for item in items]
    factories.make_order()
    assert search("jumper") == {o.number for o in orders}


def test_the_queue_searches_a_part_of_the_number_from_the_page(coordinator_client):
    order = factories.make_order()
    other = factories.make_order()
    response = coordinator_client.get(QUEUE, {"q": order.number[-5:]})
    assert order.number in numbers(response) and other.number not in numbers(response)


def test_the_search_works_on_a_freshly_migrated_sqlite_database(tmp_path):
    # Given a new SQLite database migrated as `make run` does (no DATABASE_URL)
    root = Path(__file__).resolve().parents[2]
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "DEBUG": "true",
    }
    manage = [sys.executable, str(root / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=root, check=True)
    # When an order is searched by part of its site name and an item's description
    code = (
        "from oms import audit; from oms.actors import Actor; from tests import factories; "
        "from orders.filters import OrderFilter; from orders.models import Order\n"
        "with audit.acting(Actor.system('tests')):\n"
        "    item = factories.ItemFactory(description='Grounding kit')\n"
        "    order = factories.make_order(project=factories.ProjectFactory(name='Pier 9'), "
        "lines=[(item, 1)])\n"
        "for text in ('pier', 'UNDING', order.number[-4:]):\n"
        "    qs = OrderFilter({'q': text}, queryset=Order.objects.all()).qs\n"
        "    print(text, list(qs.values_list('number', flat=True)) == [order.number])\n"
    )
    result = subprocess.run(
        [*manage, "shell", "-c", code],
        env=env,
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    # Then each search finds it
    lines = result.stdout.strip().splitlines()[-3:]
    assert [line.split()[-1] for line in lines] == ["True"] * 3, result.stdout


# --- Page size --------------------------------------------------------------------------


def test_the_page_size_is_chosen_and_kept_in_the_page_links(coordinator_client):
    for _ in range(27):
        factories.make_order()
    response = coordinator_client.get(QUEUE, {"per_page": "25", "status": "draft"})
    assert len(response.context["page"].object_list) == 25
    page = response.content.decode()
    assert "per_page=25&amp;status=draft&amp;page=2" in page
    assert '<option value="25" selected>25</option>' in page
    default = coordinator_client.get(QUEUE)
    assert len(default.context["page"].object_list) == 27
    assert '<option value="50" selected>50</option>' in default.content.decode()


@pytest.mark.parametrize("value", ["7", "0", "-25", "abc", "99999999999999999999", "25.0"])
def test_a_page_size_not_offered_is_a_form_error_naming_it(coordinator_client, value):
    factories.make_order()
    response = coordinator_client.get(QUEUE, {"per_page": value})
    assert response.status_code == 200
    assert "Rows per page (per_page): Show 25, 50, 100 or 200" in response.content.decode()
    assert response.context["page"].paginator.per_page == 50


# --- Hostile values ---------------------------------------------------------------------

HOSTILE = ["%00", "a%00b", "%ED%A0%80", "%ff%fe", "9" * 400, "%F0%9F%98%80" * 50]
FIELDS = [
    "q",
    "status",
    "market",
    "region",
    "priority",
    "kind",
    "need_by_from",
    "need_by_to",
    "per_page",
    "assignee",
    "sort",
    "page",
    "view",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name", FIELDS)
def test_hostile_values_are_a_400_naming_them_or_a_form_error_never_a_500(
    coordinator_client, name, value
):
    # NUL, lone surrogates and bytes that are not UTF-8 are refused before the view with
    # 400 naming the parameter (oms.middleware); anything else is the form's to judge.
    factories.make_order()
    for url, headers in [
        (f"{QUEUE}?{name}={value}", {}),
        (f"{QUEUE}?{name}={value}", {"HX-Request": "true"}),
        (f"{reverse('orders:export_csv')}?{name}={value}", {}),
    ]:
        response = coordinator_client.get(url, headers=headers)
        assert response.status_code in (200, 400), url
        if response.status_code == 400:
            assert repr(name) in response.content.decode() or name in response.content.decode()


@pytest.mark.parametrize("name", ["market", "region", "need_by_from", "per_page", "q"])
def test_a_nul_byte_or_a_lone_surrogate_is_a_400_naming_the_field(coordinator_client, name):
    for value in ("%00", "%ED%A0%80"):
        response = coordinator_client.get(f"{QUEUE}?{name}={value}")
        assert response.status_code == 400
        assert f"The query parameter {name!r}" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "value", "label"),
    [
        ("market", "9" * 400, "Market"),
        ("need_by_to", "9" * 400, "Need by to"),
        ("per_page", "9" * 400, "Rows per page"),
        ("status", "😀", "Status"),
    ],
)
def test_a_huge_or_strange_value_is_a_form_error_naming_the_field(
    coordinator_client, name, value, label
):
    response = coordinator_client.get(QUEUE, {name: value})
    assert response.status_code == 200
    assert f"{label} ({name}):" in response.content.decode()


@pytest.mark.parametrize("name", ["need_by_from", "need_by_to", "q", "market"])
@pytest.mark.parametrize("value", ["%00", "%ED%A0%80", "2026-13-01"])
def test_hostile_values_over_the_api_are_never_a_500(api, name, value):
    response = api.get(f"/api/v1/orders/?{name}={value}")
    assert response.status_code in (200, 400)


# --- Saved views ------------------------------------------------------------------------


def save(client, name, query, **extra):
    return client.post(reverse("orders:saved_views"), {"name": name, "query": query, **extra})


def test_a_coordinator_saves_the_filters_under_a_name_without_the_page(
    coordinator_client, coordinator, nyc
):
    response = save(
        coordinator_client, "  NYC   urgent ", "priority=2&market=NYC&page=3&priority=1"
    )
    view = SavedView.objects.get(owner=coordinator)
    assert view.name == "NYC urgent"
    assert view.query == "market=NYC&priority=1&priority=2"
    assert response.status_code == 302 and response["Location"].endswith(f"?{view.query}")
    page = coordinator_client.get(QUEUE, {"status": "draft"}).content.decode()
    assert f'href="/orders/?{view.query.replace("&", "&amp;")}">NYC urgent</a>' in page


def test_saving_under_a_name_one_has_replaces_that_view_s_filters(coordinator_client, coordinator):
    save(coordinator_client, "Mine", "status=draft")
    save(coordinator_client, "Mine", "status=approved&sort=need_by")
    assert list(SavedView.objects.values_list("name", "query")) == [
        ("Mine", "status=approved&sort=need_by")
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("market=ATLANTIS", "market"),
        ("status=flying", "status"),
        ("need_by_to=2026-02-30", "need_by_to"),
        ("per_page=7", "per_page"),
        ("sort=cheapest", "sort"),
    ],
)
def test_filters_the_queue_would_refuse_are_not_saved(coordinator, query, field):
    with pytest.raises(saved_views.ValidationFailed) as refused:
        saved_views.saved_view_save(owner=coordinator, name="Bad", query=query)
    assert [p.field for p in refused.value.problems] == [field]
    assert not SavedView.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", "a" * 81, "bad\x00name"])
def test_a_view_needs_a_name_that_is_text(coordinator_client, coordinator, name):
    response = save(coordinator_client, name, "status=draft")
    assert response.status_code == 302
    assert not SavedView.objects.exists()


def test_the_queue_opens_with_the_default_view_and_view_all_shows_every_order(
    coordinator_client, coordinator
):
    draft = factories.make_order()
    approved = factories.order_in(OrderStatus.APPROVED)
    save(coordinator_client, "Drafts", "status=draft", is_default="on")
    opened = coordinator_client.get(QUEUE)
    assert numbers(opened) == {draft.number}
    page = opened.content.decode()
    assert "Default view: <strong>Drafts</strong>" in page
    assert 'href="/orders/?view=all">Show all orders</a>' in page
    every = coordinator_client.get(QUEUE, {"view": "all"})
    assert numbers(every) == {draft.number, approved.number}
    assert "Default view:" not in every.content.decode()
    # An htmx request without a query string (a refresh of /orders/) gets the same view
    fragment = coordinator_client.get(QUEUE, headers={"HX-Request": "true"})
    assert numbers(fragment) == {draft.number}


def test_a_person_has_at_most_one_default_view(coordinator_client, coordinator):
    save(coordinator_client, "One", "status=draft", is_default="on")
    save(coordinator_client, "Two", "status=approved", is_default="on")
    assert list(SavedView.objects.filter(is_default=True).values_list("name", flat=True)) == ["Two"]
    one = SavedView.objects.get(name="One")
    coordinator_client.post(
        reverse("orders:saved_view_change", args=[one.pk]), {"action": "default"}
    )
    assert list(SavedView.objects.filter(is_default=True).values_list("name", flat=True)) == ["One"]
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        SavedView.objects.filter(name="Two").update(is_default=True)


def test_another_person_s_default_view_is_not_mine(coordinator_client):
    other = factories.UserFactory(role="coordinator")
    SavedView.objects.create(owner=other, name="Theirs", query="status=draft", is_default=True)
    factories.order_in(OrderStatus.APPROVED)
    response = coordinator_client.get(QUEUE)
    assert response.context["default_view"] is None and len(numbers(response)) == 1


def test_a_shared_link_shows_the_same_orders_to_anyone_who_may_see_the_queue(
    coordinator_client, coordinator, viewer_client
):
    draft = factories.make_order()
    factories.order_in(OrderStatus.APPROVED)
    save(coordinator_client, "Drafts", "status=draft")
    view = SavedView.objects.get()
    page = coordinator_client.get(reverse("orders:saved_views")).content.decode()
    link = f"http://testserver/orders/?{view.query}"
    assert f'value="{link}"' in page and "Copy link" in page
    assert numbers(viewer_client.get(link)) == {draft.number}


def test_the_owner_renames_makes_default_and_deletes_a_view(coordinator_client, coordinator):
    save(coordinator_client, "Old", "status=draft")
    view = SavedView.objects.get()
    url = reverse("orders:saved_view_change", args=[view.pk])
    coordinator_client.post(url, {"action": "rename", "name": "New"})
    view.refresh_from_db()
    assert view.name == "New"
    coordinator_client.post(url, {"action": "default"})
    view.refresh_from_db()
    assert view.is_default
    coordinator_client.post(url, {"action": "undefault"})
    view.refresh_from_db()
    assert not view.is_default
    coordinator_client.post(url, {"action": "delete"})
    assert not SavedView.objects.exists()


def test_a_rename_to_a_name_one_has_is_refused(coordinator_client, coordinator):
    save(coordinator_client, "A", "status=draft")
    save(coordinator_client, "B", "status=approved")
    b = SavedView.objects.get(name="B")
    response = coordinator_client.post(
        reverse("orders:saved_view_change", args=[b.pk]),
        {"action": "rename", "name": "A"},
        follow=True,
    )
    assert "You have a view named A already." in response.content.decode()
    b.refresh_from_db()
    assert b.name == "B"


@pytest.mark.parametrize("action", ["rename", "default", "delete"])
def test_only_the_owner_changes_or_deletes_a_view(coordinator_client, action):
    other = factories.UserFactory(role="coordinator")
    view = SavedView.objects.create(owner=other, name="Theirs", query="status=draft")
    response = coordinator_client.post(
        reverse("orders:saved_view_change", args=[view.pk]), {"action": action, "name": "Mine"}
    )
    assert response.status_code == 404
    view.refresh_from_db()
    assert (view.name, view.is_default) == ("Theirs", False)
    with pytest.raises(saved_views.ActionForbidden):
        saved_views.saved_view_delete(view=view, owner=factories.UserFactory())


def test_saved_views_are_changed_by_post_with_a_csrf_token_only(coordinator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    response = client.post(reverse("orders:saved_views"), {"name": "X", "query": ""})
    assert response.status_code == 403
    view = SavedView.objects.create(owner=coordinator, name="Mine", query="")
    url = reverse("orders:saved_view_change", args=[view.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"action": "delete"}).status_code == 403
    assert SavedView.objects.filter(pk=view.pk).exists()


@pytest.mark.parametrize("action", ["explode", "", "%00"])
def test_an_unknown_change_is_refused_with_a_message(coordinator_client, coordinator, action):
    view = SavedView.objects.create(owner=coordinator, name="Mine", query="")
    response = coordinator_client.post(
        reverse("orders:saved_view_change", args=[view.pk]), {"action": action}, follow=True
    )
    assert response.status_code == 200 and SavedView.objects.filter(pk=view.pk).exists()


def test_the_queue_runs_as_many_queries_with_saved_views_and_filters(
    coordinator_client, coordinator, django_assert_max_num_queries
):
    # The saved views are read in one query, the tabs' counts replace the page's count;
    # the live-update mark is one more.
    for n in range(3):
        SavedView.objects.create(owner=coordinator, name=f"View {n}", query=f"priority={n + 1}")
    factories.make_order()
    coordinator_client.get(QUEUE)
    with django_assert_max_num_queries(13) as few:
        coordinator_client.get(QUEUE, {"status": "draft", "market": "NONE"})
    for n in range(3, 6):
        SavedView.objects.create(owner=coordinator, name=f"View {n}", query="status=draft")
        factories.make_order()
    with django_assert_max_num_queries(len(few.captured_queries)):
        coordinator_client.get(QUEUE, {"status": "draft", "market": "NONE"})


def test_the_search_looks_the_projects_and_items_up_once_per_page(coordinator_client):
    factories.make_order(project=factories.ProjectFactory(name="Harbor Tower"))
    with CaptureQueriesContext(connection) as queries:
        response = coordinator_client.get(QUEUE, {"q": "harbor"})
    sqls = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sqls if s.startswith('SELECT "orders_project"."id"')]) == 1
    assert len([s for s in sqls if s.startswith('SELECT "catalog_item"."id"')]) == 1
    assert response.context["page"].paginator.count == 1


def test_the_queue_shows_checkbox_lists_after_the_api_schema_was_made(coordinator_client, client):
    # The schema reads the form fields of OrderFilter's filters, which the queue's share.
    client.get("/api/v1/schema/", headers={"Accept": "application/json"})
    page = coordinator_client.get(QUEUE).content.decode()
    assert 'type="checkbox" name="status" value="draft"' in page
    assert 'type="checkbox" name="priority" value="1"' in page
