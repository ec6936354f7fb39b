"""The back office's edits of a draft: need-by date and priority on the order page,
several items and a kit in the line editor."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.choices import LineSource
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _header(order):
    return reverse("orders:header", args=[order.number])


def _lines(order):
    return reverse("orders:lines", args=[order.number])


def test_need_by_and_priority_are_saved_and_shown_on_the_order_page(coordinator_client):
    order = factories.make_order(national_priority=3)
    new_date = timezone.localdate() + 20 * DAY
    response = coordinator_client.post(
        _header(order),
        {
            "version": order.version,
            "need_by": new_date.isoformat(),
            "national_priority": "1",
            "reason": "Crane booked for the 20th",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Need-by date and priority saved." in page
    assert f"<dt>Need by</dt><dd>{new_date:%Y-%m-%d}</dd>" in page
    assert "<dt>Priority</dt><dd>P1 critical</dd>" in page
    assert "Crane booked for the 20th" in page  # the timeline's reason
    order.refresh_from_db()
    assert (order.need_by, order.national_priority) == (new_date, 1)


def test_a_past_need_by_date_is_shown_next_to_its_field_with_the_form_open(coordinator_client):
    order = factories.make_order()
    response = coordinator_client.post(
        _header(order),
        {
            "version": order.version,
            "need_by": "2020-01-01",
            "national_priority": "3",
            "reason": "oops",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Need by: 2020-01-01 is in the past" in page
    assert 'id="id_header_need_by_error"' in page
    assert '<details class="reason" open>' in page
    assert Order.objects.get(pk=order.pk).need_by == datetime.date(2026, 12, 31)


@pytest.mark.parametrize(
    "sent, message",
    [
        ({"need_by": "31/12/2026"}, "Need by: give a date as YYYY-MM-DD."),
        ({"need_by": "2026-02-30"}, "Need by: give a date as YYYY-MM-DD."),
        ({"national_priority": "9"}, "Priority: choose one from the list."),
        ({"national_priority": "'; drop"}, "Priority: choose one from the list."),
        ({"reason": "   "}, "This field is required."),
        ({"version": "x"}, "This page is out of date; reload it and try again."),
    ],
)
def test_a_header_change_refuses_bad_values_with_a_message(coordinator_client, sent, message):
    order = factories.make_order()
    data = {
        "version": order.version,
        "need_by": "2026-12-31",
        "national_priority": "2",
        "reason": "why",
        **sent,
    }
    response = coordinator_client.post(_header(order), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Order.objects.get(pk=order.pk).national_priority == 3


def test_a_viewer_cannot_change_the_priority(viewer_client):
    order = factories.make_order()
    response = viewer_client.post(
        _header(order), {"version": 1, "need_by": "2026-12-31", "national_priority": "1"}
    )
    assert response.status_code == 403


def test_a_stale_header_change_is_refused(coordinator_client):
    order = factories.make_order()
    line = order.lines.get()
    factories.services.order_edit_lines(
        order=order,
        edits=factories.services.LineEdits(quantities={line.pk: 7}),
        actor=factories.SETUP,
    )
    response = coordinator_client.post(
        _header(order),
        {"version": 1, "need_by": "2026-12-31", "national_priority": "1", "reason": "rush"},
        follow=True,
    )
    assert b"changed since you loaded it" in response.content
    assert Order.objects.get(pk=order.pk).national_priority == 3


def test_three_items_are_added_in_one_save(coordinator_client):
    order = factories.make_order()
    items = [factories.ItemFactory() for _ in range(3)]
    data = {"version": order.version, f"qty_{order.lines.get().pk}": 5, "add_rows": 3}
    for n, item in enumerate(items, start=1):
        suffix = "" if n == 1 else f"_{n}"
        data[f"add_item{suffix}"] = item.code
        data[f"add_quantity{suffix}"] = n * 2
    response = coordinator_client.post(_lines(order), data)
    assert response.status_code == 302
    added = {line.item_id: line.quantity for line in order.lines.exclude(source="upstream")}
    assert added == {items[0].pk: 2, items[1].pk: 4, items[2].pk: 6}
    assert Order.objects.get(pk=order.pk).version == 2


def test_each_bad_add_row_is_reported_in_its_row_and_nothing_is_saved(coordinator_client):
    order = factories.make_order()
    good, other = factories.ItemFactory(), factories.ItemFactory()
    response = coordinator_client.post(
        _lines(order),
        {
            "version": order.version,
            f"qty_{order.lines.get().pk}": 5,
            "add_rows": 4,
            "add_item": good.code,
            "add_quantity": 1,
            "add_item_2": "NOPE",
            "add_quantity_2": 1,
            "add_item_3": other.code,
            "add_item_4": good.code,
            "add_quantity_4": 2,
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_add_item_2_error"' in page and "There is no item NOPE." in page
    assert 'id="id_add_quantity_3_error"' in page and "Give the quantity to add." in page
    assert 'id="id_add_item_4_error"' in page and f"{good.code} is already in row 1" in page
    assert order.lines.count() == 1


def test_an_item_the_service_refuses_is_reported_in_its_row(coordinator_client):
    order = factories.make_order()
    existing = order.lines.get()
    response = coordinator_client.post(
        _lines(order),
        {
            "version": order.version,
            f"qty_{existing.pk}": 5,
            "add_item_2": existing.item.code,
            "add_quantity_2": 1,
        },
    )
    assert response.status_code == 400
    assert b'id="id_add_item_2_error"' in response.content
    assert b"is already on the order" in response.content


def test_add_another_row_keeps_what_was_typed_and_saves_nothing(coordinator_client):
    order = factories.make_order()
    item = factories.ItemFactory()
    response = coordinator_client.post(
        _lines(order),
        {
            "version": order.version,
            f"qty_{order.lines.get().pk}": 8,
            "add_rows": 3,
            "add_item": item.code,
            "add_quantity": 4,
            "add_row": "1",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="add_item_4"' in page and 'name="add_item_5"' not in page
    assert f'value="{item.code}"' in page and 'value="8"' in page
    assert 'name="add_rows" value="4"' in page
    assert order.lines.count() == 1 and order.lines.get().quantity == 5


@pytest.mark.parametrize("rows", ["abc", "-3", "999999", ""])
def test_a_strange_row_count_is_never_a_server_error(coordinator_client, rows):
    order = factories.make_order()
    response = coordinator_client.post(
        _lines(order),
        {"version": order.version, f"qty_{order.lines.get().pk}": 5, "add_rows": rows},
    )
    assert response.status_code == 302


def test_a_kit_added_twice_over_shows_its_items_on_the_order(coordinator_client):
    antenna, cable = factories.ItemFactory(), factories.ItemFactory()
    factories.make_kit("KIT-SEC", [(antenna, 1), (cable, 3)])
    order = factories.make_order(lines=[(cable, 4)])
    response = coordinator_client.post(
        _lines(order),
        {
            "version": order.version,
            f"qty_{order.lines.get().pk}": 4,
            "add_kit": "KIT-SEC",
            "add_kit_count": 2,
        },
        follow=True,
    )
    assert b"Lines saved." in response.content
    assert {line.item_id: line.quantity for line in order.lines.all()} == {
        antenna.pk: 2,
        cable.pk: 10,
    }
    assert order.lines.get(item=antenna).source == LineSource.MANUAL
    assert "Added by a coordinator (KIT-SEC)" in response.content.decode()


@pytest.mark.parametrize(
    "sent, field, message",
    [
        ({"add_kit": "KIT-NOPE", "add_kit_count": 1}, "add_kit", "There is no such kit"),
        ({"add_kit": "KIT-SEC"}, "add_kit_count", "Give the number of kits to add."),
        ({"add_kit_count": 2}, "add_kit", "Choose the kit to add."),
        ({"add_kit": "KIT-SEC", "add_kit_count": 0}, "add_kit_count", "greater than or equal"),
        ({"add_kit": "KIT-LATER", "add_kit_count": 1}, "add_kit", "has no live version"),
    ],
)
def test_a_bad_kit_is_reported_next_to_the_kit_fields(coordinator_client, sent, field, message):
    factories.make_kit("KIT-SEC", [(factories.ItemFactory(), 1)])
    factories.make_kit(
        "KIT-LATER",
        [(factories.ItemFactory(), 1)],
        effective_from=timezone.localdate() + 3 * DAY,
    )
    order = factories.make_order()
    response = coordinator_client.post(
        _lines(order), {"version": order.version, f"qty_{order.lines.get().pk}": 5, **sent}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page and message in page
    assert order.lines.count() == 1


def test_every_add_row_gets_item_suggestions(coordinator_client):
    item = factories.ItemFactory(description="Sector antenna 65 degrees")
    response = coordinator_client.get(reverse("orders:item_search"), {"add_item_3": "Sector"})
    assert item.code in response.content.decode()


def test_the_api_changes_need_by_priority_and_adds_a_kit_in_one_patch(api):
    item = factories.ItemFactory()
    factories.make_kit("KIT-API", [(item, 2)])
    order = factories.make_order()
    new_date = timezone.localdate() + 5 * DAY
    body = {
        "kits": [{"kit": "KIT-API", "quantity": 3}],
        "need_by": new_date.isoformat(),
        "national_priority": 2,
        "reason": "Permit came through",
    }
    response = api.patch(f"/api/v1/orders/{order.number}/", body, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert (order.need_by, order.national_priority, order.version) == (new_date, 2, 3)
    assert order.lines.get(item=item).quantity == 6
    assert order.history.latest().history_change_reason == "Permit came through"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"need_by": "2020-01-01", "reason": "x"}, "need_by"),
        ({"national_priority": 1}, "reason"),
        ({"kits": [{"kit": "KIT-NOPE", "quantity": 1}]}, "kits[0].kit"),
    ],
)
def test_the_api_refuses_a_bad_header_change_or_kit_naming_the_field(api, body, field):
    order = factories.make_order()
    response = api.patch(f"/api/v1/orders/{order.number}/", body, headers={"If-Match": '"1"'})
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert Order.objects.get(pk=order.pk).version == 1
