"""Ownership of orders: who may assign an order to whom, in which statuses, what the
history and the event feed say, and how the queue filters and sorts by assignee."""

from types import SimpleNamespace

import pytest
from django.urls import reverse

from oms.actors import Actor
from oms.errors import ActionForbidden, TransitionNotAllowed, ValidationFailed
from oms.models import OutboxEvent
from oms.paginators import FirstPartPaginator
from orders import selectors, services
from orders.choices import OrderStatus
from orders.filters import OrderFilter
from orders.forms import MINE_FIRST, SORTS, mine_first, queue_ordering
from orders.models import Order
from orders.web.timeline import order_timeline
from tests import factories
from tests.apiclient import problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_coordinator(db):
    return factories.UserFactory(username="bea", role="coordinator")


def assign(order, assignee, actor, reason=""):
    return services.order_assign(order=order, assignee=assignee, actor=actor, reason=reason)


def history_reasons(order):
    return [r.history_change_reason for r in order.history.order_by("history_id")]


# --- The service ------------------------------------------------------------------------


def test_assigning_an_order_records_the_actor_and_reason_and_bumps_the_version(
    coordinator, coordinator_actor, other_coordinator
):
    order = factories.make_order()
    version = order.version
    order = assign(order, other_coordinator, coordinator_actor, reason="knows the site")
    order.refresh_from_db()
    assert order.assignee == other_coordinator
    assert order.version == version + 1
    record = order.history.order_by("-history_id").first()
    assert record.history_change_reason == "assigned to bea: knows the site"
    assert (record.actor_kind, record.actor_name) == ("person", coordinator.username)
    event = OutboxEvent.objects.filter(event_type="order.assigned").get()
    assert event.payload["assignee"] == "bea" and event.payload["previous"] is None
    assert event.payload["actor"] == {"kind": "person", "name": coordinator.username}


def test_reassigning_moves_the_order_and_tells_the_timeline_by_name(
    coordinator, coordinator_actor, other_coordinator
):
    order = assign(factories.make_order(), coordinator, coordinator_actor)
    order = assign(order, other_coordinator, coordinator_actor)
    assert Order.objects.get(pk=order.pk).assignee == other_coordinator
    newest = order_timeline(order)[0]
    assert newest.reason == "assigned to bea"
    change = next(c for c in newest.changes if c.field == "assignee")
    assert (change.old, change.new) == (coordinator.username, "bea")
    events = OutboxEvent.objects.filter(event_type="order.assigned").order_by("id")
    assert [e.payload["previous"] for e in events] == [None, coordinator.username]


def test_unassigning_leaves_the_order_to_nobody_and_says_so(coordinator, coordinator_actor):
    order = assign(factories.make_order(), coordinator, coordinator_actor)
    order = assign(order, None, coordinator_actor)
    assert Order.objects.get(pk=order.pk).assignee is None
    assert history_reasons(order)[-1] == "unassigned"
    assert (
        OutboxEvent.objects.filter(event_type="order.assigned").last().payload["assignee"] is None
    )


def test_assigning_to_the_person_who_has_it_changes_nothing(coordinator, coordinator_actor):
    order = assign(factories.make_order(), coordinator, coordinator_actor)
    version = Order.objects.get(pk=order.pk).version
    assign(order, coordinator, coordinator_actor)
    assert Order.objects.get(pk=order.pk).version == version
    assert OutboxEvent.objects.filter(event_type="order.assigned").count() == 1


def test_a_viewer_may_not_assign_orders(viewer, coordinator):
    order = factories.make_order()
    with pytest.raises(ActionForbidden):
        assign(order, coordinator, Actor.person(viewer))
    with pytest.raises(ActionForbidden):
        assign(order, viewer, Actor.person(viewer))
    assert Order.objects.get(pk=order.pk).assignee is None


@pytest.mark.parametrize("role", ["viewer", "catalog_admin", None])
def test_orders_are_assigned_to_coordinators_only(role, coordinator_actor):
    someone = factories.UserFactory(role=role)
    order = factories.make_order()
    with pytest.raises(ValidationFailed) as refused:
        assign(order, someone, coordinator_actor)
    assert refused.value.problems[0].field == "assignee"
    assert Order.objects.get(pk=order.pk).assignee is None


def test_a_deactivated_coordinator_is_not_assigned_orders(coordinator_actor):
    gone = factories.UserFactory(role="coordinator", is_active=False)
    with pytest.raises(ValidationFailed):
        assign(factories.make_order(), gone, coordinator_actor)


@pytest.mark.parametrize("status", [OrderStatus.CLOSED, OrderStatus.CANCELLED])
def test_a_finished_order_is_not_assigned_but_can_be_unassigned(
    status, coordinator, coordinator_actor
):
    order = factories.make_order()
    assign(order, coordinator, coordinator_actor)
    order = factories.order_in(status)
    with pytest.raises(TransitionNotAllowed):
        assign(order, coordinator, coordinator_actor)
    # an order assigned before it finished can still be cleared from someone's list
    Order.objects.filter(pk=order.pk).update(assignee=coordinator)
    assign(Order.objects.get(pk=order.pk), None, coordinator_actor)
    assert Order.objects.get(pk=order.pk).assignee is None


@pytest.mark.parametrize(
    "status",
    [OrderStatus.DRAFT, OrderStatus.APPROVED, OrderStatus.RELEASED],
)
def test_an_open_order_is_assigned_in_any_status(status, coordinator, coordinator_actor):
    order = factories.order_in(status)
    assign(order, coordinator, coordinator_actor)
    assert Order.objects.get(pk=order.pk).assignee == coordinator


# --- The filter -------------------------------------------------------------------------


@pytest.fixture
def assigned(coordinator, coordinator_actor, other_coordinator):
    mine = assign(factories.make_order(), coordinator, coordinator_actor)
    theirs = assign(factories.make_order(), other_coordinator, coordinator_actor)
    nobodys = factories.make_order()
    return {"mine": mine.number, "theirs": theirs.number, "nobodys": nobodys.number}


class Asking:
    def __init__(self, user):
        self.user = user


def numbers(value, user=None):
    orders = OrderFilter(
        {"assignee": value}, queryset=Order.objects.all(), request=Asking(user) if user else None
    )
    assert orders.is_valid(), orders.errors
    return set(orders.qs.values_list("number", flat=True))


def test_the_assignee_filter_reads_me_none_or_a_username(assigned, coordinator):
    assert numbers("me", coordinator) == {assigned["mine"]}
    assert numbers("none") == {assigned["nobodys"]}
    assert numbers("bea") == {assigned["theirs"]}
    assert numbers("") == set(assigned.values())


@pytest.mark.parametrize("value", ["nobody-such", "me", "0"])
def test_the_api_answers_an_assignee_who_holds_nothing_with_no_orders(value, assigned, api):
    # `me` is a person; an external client holds no orders, nor does an unknown name
    response = api.get("/api/v1/orders/", {"assignee": value})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_api_refuses_an_assignee_longer_than_any_username_naming_it(api):
    response = api.get("/api/v1/orders/", {"assignee": "x" * 151})
    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "assignee"


def test_the_api_filters_by_assignee(assigned, api, coordinator_client):
    found = api.get("/api/v1/orders/", {"assignee": "bea"}).json()["results"]
    assert [o["number"] for o in found] == [assigned["theirs"]]
    found = api.get("/api/v1/orders/", {"assignee": "none"}).json()["results"]
    assert [o["number"] for o in found] == [assigned["nobodys"]]
    # a person signed in reads their own orders as `me`
    found = coordinator_client.get("/api/v1/orders/", {"assignee": "me"}).json()["results"]
    assert [o["number"] for o in found] == [assigned["mine"]]


def test_the_queue_s_assignee_filter_refuses_a_viewer_as_assignee(assigned, viewer, coordinator):
    asked = SimpleNamespace(user=coordinator)
    orders = OrderFilter({"assignee": viewer.username}, queryset=Order.objects.all(), request=asked)
    assert not orders.is_valid() and "assignee" in orders.errors


# --- The queue --------------------------------------------------------------------------


def queue_numbers(client, **params):
    page = client.get(reverse("orders:queue"), params)
    return [order.number for order in page.context["page"].object_list]


def test_a_coordinator_sees_their_orders_first_by_default(assigned, coordinator_client):
    # the order assigned to me is the oldest; by last change it would come last
    assert queue_numbers(coordinator_client)[0] == assigned["mine"]
    assert queue_numbers(coordinator_client, sort="updated")[0] == assigned["nobodys"]


def test_a_viewer_sees_the_latest_change_first_by_default(assigned, viewer_client):
    assert queue_numbers(viewer_client)[0] == assigned["nobodys"]


def test_the_queue_shows_the_assignee_and_filters_by_it(assigned, coordinator_client):
    page = coordinator_client.get(reverse("orders:queue"), {"assignee": "bea"})
    assert [o.number for o in page.context["page"].object_list] == [assigned["theirs"]]
    html = page.content.decode()
    assert ">Assignee</th>" in html and "bea" in html
    bad = coordinator_client.get(reverse("orders:queue"), {"assignee": "<script>"})
    assert bad.status_code == 200
    assert "Give me, none or the username of a coordinator" in bad.content.decode()


def test_the_queue_reads_the_assignees_with_the_rows(
    coordinator, coordinator_actor, coordinator_client, django_assert_max_num_queries
):
    # Given a first page (Mine first) with orders of mine and of others
    for _ in range(2):
        assign(factories.make_order(), coordinator, coordinator_actor)
    factories.make_order()
    coordinator_client.get(reverse("orders:queue"))
    with django_assert_max_num_queries(40) as few:
        coordinator_client.get(reverse("orders:queue"))
    # When more orders, mine and each of another coordinator, come
    for _ in range(3):
        assign(factories.make_order(), coordinator, coordinator_actor)
    for _ in range(6):
        other = factories.UserFactory(role="coordinator")
        assign(factories.make_order(), other, coordinator_actor)
    # Then the page reads no more (the assignees come with the rows)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = coordinator_client.get(reverse("orders:queue"))
    assert len(page.context["page"].object_list) == 12


# --- The order page ---------------------------------------------------------------------


def assign_url(order):
    return reverse("orders:assign", args=[order.number])


def test_the_order_page_says_who_the_order_is_assigned_to(
    coordinator_client, coordinator_actor, other_coordinator
):
    order = assign(factories.make_order(), other_coordinator, coordinator_actor)
    html = coordinator_client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert 'id="assignee-name">bea<' in html
    assert "Assign to me" in html


def test_a_coordinator_assigns_an_order_to_themself_from_its_page(coordinator, coordinator_client):
    order = factories.make_order()
    response = coordinator_client.post(
        assign_url(order), {"assignee": coordinator.username, "version": order.version}
    )
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).assignee == coordinator
    page = coordinator_client.get(response.url).content.decode()
    assert f"{order.number} is assigned to {coordinator.username}." in page


def test_the_unassign_button_leaves_the_order_to_nobody(
    coordinator, coordinator_actor, coordinator_client
):
    order = assign(factories.make_order(), coordinator, coordinator_actor)
    coordinator_client.post(assign_url(order), {"unassign": "true"})
    assert Order.objects.get(pk=order.pk).assignee is None


@pytest.mark.parametrize("value", ["", "nobody-such", "x" * 500])
def test_the_assign_form_refuses_what_is_not_a_coordinator(value, viewer, coordinator_client):
    order = factories.make_order()
    for sent in (value, viewer.username):
        response = coordinator_client.post(assign_url(order), {"assignee": sent})
        assert response.status_code == 400
        assert "errorlist" in response.content.decode()
    assert Order.objects.get(pk=order.pk).assignee is None


def test_assigning_from_a_stale_page_is_refused(coordinator, coordinator_client, other_coordinator):
    order = factories.make_order()
    seen = order.version
    assign(order, other_coordinator, Actor.person(coordinator))
    response = coordinator_client.post(
        assign_url(order), {"assignee": coordinator.username, "version": seen}, follow=True
    )
    assert "changed since you opened it" in response.content.decode()
    assert Order.objects.get(pk=order.pk).assignee == other_coordinator


def test_a_viewer_cannot_assign_and_sees_no_form(viewer_client, coordinator):
    order = factories.make_order()
    response = viewer_client.post(assign_url(order), {"assignee": coordinator.username})
    assert response.status_code == 403
    html = viewer_client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "Assigned to:" in html and "Assign to me" not in html


def test_the_api_tells_who_an_order_is_assigned_to(assigned, api):
    rows = {o["number"]: o["assignee"] for o in api.get("/api/v1/orders/").json()["results"]}
    assert rows[assigned["theirs"]] == "bea" and rows[assigned["nobodys"]] is None
    detail = api.get(f"/api/v1/orders/{assigned['theirs']}/").json()
    assert detail["assignee"] == "bea"


@pytest.mark.parametrize("read_whole", [0, 2000], ids=["sliced", "read-whole"])
def test_mine_first_pages_hold_the_orders_of_one_sort_by_assignee_then_last_change(
    read_whole, coordinator, coordinator_actor, other_coordinator
):
    # Given seven orders, three of them mine (so one page of two straddles the parts)
    orders = [factories.make_order() for _ in range(7)]
    for order in orders[1::2]:
        assign(order, coordinator, coordinator_actor)
    assign(orders[0], other_coordinator, coordinator_actor)
    paginator = FirstPartPaginator(
        Order.objects.order_by(*SORTS[MINE_FIRST][1]),
        2,
        rows=selectors.order_list(),
        first=mine_first(MINE_FIRST, coordinator),
    )
    paginator.read_whole = read_whole
    pages = [list(paginator.page(number)) for number in paginator.page_range]
    expected = list(Order.objects.order_by(*queue_ordering(MINE_FIRST, coordinator)))
    assert [order for page in pages for order in page] == expected
    assert {order.assignee for order in pages[0] + pages[1][:1]} == {coordinator}
