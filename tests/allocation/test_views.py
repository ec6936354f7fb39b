"""The allocation back office: who sees and starts runs, how outcomes are filtered and
explained, and what the dashboard and the order page say."""

import pytest
from django.test import Client
from django.urls import reverse

from allocation import services
from allocation.choices import Trigger
from allocation.models import AllocationRun
from orders.choices import OrderStatus
from tests.allocation.builders import allocate, status_of
from tests.factories import SETUP, UserFactory, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(world):
    """An allocatable order, a short one and a mismatched one, and a run over them."""
    x, y, unknown = world.items[:3]
    stock(world.a, x, 10)
    stock(world.a, y, 1)
    fits = world.approved([(x, 4)], national_priority=1)
    short = world.approved([(x, 2), (y, 5)], national_priority=2)
    mismatched = world.approved([(unknown, 1)], national_priority=3)
    run = allocate()
    return {"run": run, "fits": fits, "short": short, "mismatched": mismatched, "y": y}


def run_url(run, **query):
    url = reverse("allocation:run", args=[run.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_pages_need_a_login(client, scene):
    response = client.get(reverse("allocation:runs"))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("name", ["runs", "run", "run_summary", "blocking"])
def test_pages_need_the_permission_to_see_runs(client, scene, name):
    client.force_login(UserFactory())  # no role
    args = [] if name == "runs" else [scene["run"].pk]
    assert client.get(reverse(f"allocation:{name}", args=args)).status_code == 403


def test_run_now_is_refused_without_permission(viewer_client, world):
    response = viewer_client.post(reverse("allocation:start"))
    assert response.status_code == 403
    assert not AllocationRun.objects.exists()


def test_run_now_needs_the_csrf_token(coordinator, world):
    http = Client(enforce_csrf_checks=True)
    http.force_login(coordinator)
    assert http.post(reverse("allocation:start")).status_code == 403
    assert not AllocationRun.objects.exists()


def test_a_coordinator_runs_now_and_the_run_is_queued_for_a_worker(
    coordinator_client, coordinator, world
):
    x = world.items[0]
    stock(world.a, x, 5)
    order = world.approved([(x, 2)])
    page = coordinator_client.get(reverse("allocation:runs")).content.decode()
    assert reverse("allocation:start") in page and "Dry run" in page

    response = coordinator_client.post(reverse("allocation:start"), follow=True)

    run = AllocationRun.objects.get()
    assert response.redirect_chain[-1][0] == run_url(run)
    assert (run.trigger, run.dry_run, run.requested_by_name) == (
        "back_office",
        False,
        coordinator.username,
    )
    # the test's transaction never commits, so the worker's part is done here
    services.allocation_run_execute(run_id=run.pk)
    assert status_of(order) == OrderStatus.ALLOCATED


def test_dry_run_button_asks_for_a_dry_run(coordinator_client, world):
    coordinator_client.post(reverse("allocation:start"), {"dry_run": "on"})
    assert AllocationRun.objects.get().dry_run is True


def test_run_now_while_a_run_is_queued_shows_that_run(coordinator_client, world):
    queued = services.allocation_run_request(actor=SETUP, trigger=Trigger.SCHEDULE)
    response = coordinator_client.post(reverse("allocation:start"), follow=True)
    assert response.redirect_chain[-1][0] == run_url(queued)
    assert f"Allocation run #{queued.pk} is queued" in response.content.decode()
    assert AllocationRun.objects.count() == 1


def test_the_run_page_explains_every_order(coordinator_client, scene):
    page = coordinator_client.get(run_url(scene["run"])).content.decode()
    for order in ("fits", "short", "mismatched"):
        assert scene[order].number in page
    assert "1 allocated, 1 short, 1 rejected to draft" in page
    assert f"<strong>{scene['y'].code}</strong>: needs 5, best 1" in page
    assert "is unknown to every warehouse" in page
    assert "National priority (1 first)" in page  # the ranking used


def test_outcome_filters_answer_htmx_with_the_fragment(coordinator_client, scene):
    fragment = coordinator_client.get(
        run_url(scene["run"], result="short"), headers={"HX-Request": "true"}
    )
    content = fragment.content.decode()
    assert "<html" not in content
    assert scene["short"].number in content
    assert scene["fits"].number not in content and scene["mismatched"].number not in content
    by_item = coordinator_client.get(run_url(scene["run"], item=scene["y"].code)).content.decode()
    assert scene["short"].number in by_item and scene["fits"].number not in by_item


def test_bad_outcome_filters_are_shown_not_crashed(coordinator_client, scene):
    response = coordinator_client.get(run_url(scene["run"], result="flying"))
    assert response.status_code == 200 and b"not valid" in response.content


def test_the_run_page_runs_a_fixed_number_of_queries(
    coordinator_client, world, django_assert_max_num_queries
):
    x = world.items[0]
    stock(world.a, x, 3)
    for _ in range(2):
        world.approved([(x, 2)])
    run = allocate()
    with django_assert_max_num_queries(12) as few:
        coordinator_client.get(run_url(run))
    for _ in range(12):
        world.approved([(x, 2)])
    bigger = allocate(dry_run=True)
    assert bigger.outcomes.count() == 13
    with django_assert_max_num_queries(len(few.captured_queries)):
        coordinator_client.get(run_url(bigger))


def test_the_blocking_items_page_lists_what_keeps_orders_short(coordinator_client, scene):
    page = coordinator_client.get(
        reverse("allocation:blocking", args=[scene["run"].pk])
    ).content.decode()
    y = scene["y"].code
    assert f"result=short&amp;item={y}" in page
    assert (
        '<td class="num">1</td><td class="num">5</td><td class="num">1</td><td class="num">4</td>'
        in page
    )


def test_the_summary_is_polled_while_the_run_is_going_then_the_page_reloads(
    coordinator_client, world
):
    run = services.allocation_run_request(actor=SETUP, trigger=Trigger.SCHEDULE)
    page = coordinator_client.get(run_url(run)).content.decode()
    assert 'hx-trigger="every 2s"' in page
    services.allocation_run_execute(run_id=run.pk)
    summary = reverse("allocation:run_summary", args=[run.pk])
    response = coordinator_client.get(summary + "?was=active", headers={"HX-Request": "true"})
    assert response["HX-Refresh"] == "true"
    assert 'hx-trigger="every 2s"' not in coordinator_client.get(run_url(run)).content.decode()


def test_the_dashboard_shows_the_last_run_and_its_buttons_to_coordinators(
    coordinator_client, viewer_client, scene
):
    page = coordinator_client.get(reverse("home")).content.decode()
    assert f"Allocation run #{scene['run'].pk}" in page
    assert reverse("allocation:start") in page
    assert f"item={scene['y'].code}" in page  # the item blocking the most orders
    viewer_page = viewer_client.get(reverse("home")).content.decode()
    assert f"Allocation run #{scene['run'].pk}" in viewer_page
    assert reverse("allocation:start") not in viewer_page


def test_the_order_page_says_why_an_approved_order_waits(viewer_client, scene):
    page = viewer_client.get(
        reverse("orders:detail", args=[scene["short"].number])
    ).content.decode()
    assert f'Short in <a href="{run_url(scene["run"])}' in page
    assert f"<strong>{scene['y'].code}</strong>: needs 5" in page
