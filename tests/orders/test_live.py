"""Live updates: the order page and the queue ask every few seconds whether anything
changed; an unchanged answer is a 304 after one small query, a changed one the fresh
content with a new ETag."""

import pytest
from django.urls import reverse

from oms.actors import Actor
from orders import services
from orders.choices import OrderStatus
from tests import factories
from warehouse.integration.callbacks.releases import release_accepted
from warehouse.integration.models import Release

pytestmark = pytest.mark.django_db

POLL = {"HTTP_HX_REQUEST": "true"}


def _live(order) -> str:
    return reverse("orders:live", args=[order.number])


def _poll(client, url, etag="", **params):
    headers = dict(POLL)
    if etag:
        headers["HTTP_IF_NONE_MATCH"] = etag
    return client.get(url, params, **headers)


def test_the_order_page_carries_the_etag_its_poll_answers_with(coordinator_client):
    order = factories.make_order()
    page = coordinator_client.get(reverse("orders:detail", args=[order.number]))
    first = _poll(coordinator_client, _live(order))
    assert first.status_code == 200 and first["ETag"]
    assert first["ETag"].replace('"', "&quot;") in page.content.decode()


def test_an_unchanged_order_answers_304_in_one_query_after_the_sign_in(
    coordinator_client, django_assert_num_queries
):
    order = factories.make_order()
    etag = _poll(coordinator_client, _live(order))["ETag"]
    # session, user, the user's permissions and group permissions, then the mark
    with django_assert_num_queries(5) as queries:
        response = _poll(coordinator_client, _live(order), etag)
    assert response.status_code == 304 and response.content == b""
    mark = queries.captured_queries[-1]["sql"]
    assert "orders_order" in mark and "warehouse_release" in mark


def test_a_changed_order_is_drawn_again_in_a_fixed_number_of_queries(
    coordinator_client, coordinator, django_assert_max_num_queries
):
    order = factories.make_order()
    etag = _poll(coordinator_client, _live(order))["ETag"]
    services.order_add_note(order=order, actor=Actor.person(coordinator), text="called site")
    with django_assert_max_num_queries(30) as few:
        response = _poll(coordinator_client, _live(order), etag)
    assert response.status_code == 200 and response["ETag"] != etag
    for _ in range(4):
        services.order_add_note(order=order, actor=Actor.person(coordinator), text="again")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert _poll(coordinator_client, _live(order), response["ETag"]).status_code == 200


def test_another_coordinators_approval_changes_the_order_and_says_who(coordinator_client):
    order = factories.make_order()
    etag = _poll(coordinator_client, _live(order))["ETag"]
    other = factories.UserFactory(username="bea", role="coordinator")
    services.order_approve(order=order, actor=Actor.person(other))
    response = _poll(coordinator_client, _live(order), etag)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="order-live"' in page and "Approved" in page
    assert "bea — order changed: Draft → Approved" in page
    # the forms drawn again carry the order's new version
    order.refresh_from_db()
    assert f'name="version" value="{order.version}"' in page


def test_a_warehouse_answer_changes_the_order_page_mark():
    # the acceptance changes the release and the order (released): the mark follows
    order = factories.order_in(OrderStatus.RELEASED)
    client = _signed_in()
    etag = _poll(client, _live(order))["ETag"]
    release = Release.objects.get(order=order)
    release_accepted(release=release, event_id="wh-1", actor=Actor.system("warehouse"))
    assert _poll(client, _live(order), etag).status_code == 200


def test_a_release_delivery_attempt_alone_changes_the_marks(coordinator_client):
    order = factories.order_in(OrderStatus.RELEASED)
    etag = _poll(coordinator_client, _live(order))["ETag"]
    queue_etag = _poll(coordinator_client, reverse("orders:queue_live"))["ETag"]
    release = Release.objects.get(order=order)
    release.attempts += 1
    release.save(update_fields=["attempts", "updated_at"])
    assert _poll(coordinator_client, _live(order), etag).status_code == 200
    assert _poll(coordinator_client, reverse("orders:queue_live"), queue_etag).status_code == 200


def test_the_mark_is_the_persons_own(coordinator_client, viewer_client):
    order = factories.make_order()
    mine = _poll(coordinator_client, _live(order))["ETag"]
    assert _poll(viewer_client, _live(order), mine).status_code == 200


def test_an_unknown_order_is_404(coordinator_client):
    assert _poll(coordinator_client, "/orders/NOPE-1/live/").status_code == 404


def test_a_signed_out_poll_is_sent_to_sign_in(client):
    order = factories.make_order()
    assert client.get(_live(order), **POLL).status_code == 302


# --- The queue ---------------------------------------------------------------------------


def test_an_unchanged_queue_answers_304_in_one_query_after_the_sign_in(
    coordinator_client, django_assert_num_queries
):
    factories.make_order()
    url = reverse("orders:queue_live")
    etag = _poll(coordinator_client, url, status="draft")["ETag"]
    with django_assert_num_queries(5) as queries:
        response = _poll(coordinator_client, url, etag, status="draft")
    assert response.status_code == 304
    mark = queries.captured_queries[-1]["sql"]
    # two single-entry index reads: no count, no filter of the queue's own
    assert "COUNT" not in mark.upper() and "draft" not in mark
    assert mark.count("LIMIT 1") == 2


def test_the_queue_page_and_its_results_carry_the_etag_of_their_query(coordinator_client):
    factories.make_order()
    page = coordinator_client.get(reverse("orders:queue"), {"status": "draft"})
    etag = page["ETag"]
    assert etag.replace('"', "&quot;") in page.content.decode()
    poll = _poll(coordinator_client, reverse("orders:queue_live"), etag, status="draft")
    assert poll.status_code == 304
    # another query string is other content
    other = _poll(coordinator_client, reverse("orders:queue_live"), etag, status="approved")
    assert other.status_code == 200


def test_a_changed_order_redraws_the_queue_results(coordinator_client):
    order = factories.make_order()
    url = reverse("orders:queue_live")
    etag = _poll(coordinator_client, url)["ETag"]
    services.order_approve(order=order, actor=Actor.system("tests"))
    response = _poll(coordinator_client, url, etag)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="order-row-{order.pk}"' in page and "Approved" in page
    assert 'id="queue-count"' in page  # the count is drawn again with the rows


def test_the_queue_poll_draws_its_rows_in_a_fixed_number_of_queries(
    coordinator_client, django_assert_max_num_queries
):
    factories.make_order()
    url = reverse("orders:queue_live")
    with django_assert_max_num_queries(14) as few:
        _poll(coordinator_client, url)
    for _ in range(6):
        factories.make_order()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert _poll(coordinator_client, url).status_code == 200


# --- Hostile input -----------------------------------------------------------------------

HOSTILE_ETAGS = [
    "\x00",
    '"\x00"',
    "W/" + '"' + "a" * 100_000 + '"',
    "*",
    '"x", "y", ' * 2000,
    "\udcff",
    "garbage without quotes",
]


@pytest.mark.parametrize("etag", HOSTILE_ETAGS, ids=range(len(HOSTILE_ETAGS)))
def test_hostile_if_none_match_headers_are_harmless(coordinator_client, etag):
    order = factories.make_order()
    for url in (_live(order), reverse("orders:queue_live")):
        response = coordinator_client.get(url, HTTP_IF_NONE_MATCH=etag, **POLL)
        assert response.status_code in {200, 304}, (url, response.status_code)


@pytest.mark.parametrize(
    "query",
    [
        "status=dr%00aft",
        "q=%ED%A0%80",
        "q=%FF",
        "page=" + "9" * 5000,
        "actor=" + "x" * 100_000,
        "change=%00",
        "sort=" + "-" * 10_000,
        "page=-1&page=abc",
    ],
    ids=[
        "nul",
        "surrogate",
        "not-utf8",
        "huge-page",
        "huge-actor",
        "nul-change",
        "huge-sort",
        "bad-page",
    ],
)
def test_hostile_query_parameters_are_refused_or_harmless(coordinator_client, query):
    order = factories.make_order()
    for url in (_live(order), reverse("orders:queue_live")):
        response = coordinator_client.get(f"{url}?{query}", **POLL)
        assert response.status_code in {200, 400}, (url, query, response.status_code)
        if "%00" in query or "%ED" in query or "%FF" in query:
            assert response.status_code == 400


def test_a_hostile_order_number_is_refused(coordinator_client):
    assert coordinator_client.get("/orders/%00/live/", **POLL).status_code == 400
    assert coordinator_client.get("/orders/" + "9" * 5000 + "/live/", **POLL).status_code == 404


def _signed_in():
    from django.test import Client

    http = Client()
    http.force_login(factories.UserFactory(role="coordinator"))
    return http
