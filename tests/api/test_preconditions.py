"""If-Match on order writes: the header may name several ETags, or `*`; the service
checks the versions it names on the locked order, and a mismatch is 412 with the
order's ETag now."""

import pytest

from orders.choices import OrderStatus
from orders.models import Order
from tests import factories
from tests.apiclient import problem

pytestmark = pytest.mark.django_db


def url(order, action=""):
    return f"/api/v1/orders/{order.number}/" + (f"{action}/" if action else "")


def status(order) -> str:
    return Order.objects.get(pk=order.pk).status


@pytest.mark.parametrize("header", ['"7", "1"', 'W/"1"', "*", '"x", *'])
def test_if_match_naming_the_current_version_among_others_or_any_is_met(api, header):
    order = factories.make_order()

    response = api.post(url(order, "approve"), headers={"If-Match": header})

    assert response.status_code == 200, response.content
    assert status(order) == OrderStatus.APPROVED


@pytest.mark.parametrize("header", ['"7", "8"', "1", '"01"', '"one"', ""])
def test_if_match_naming_no_current_version_is_412_with_the_etag_now(api, header):
    order = factories.make_order()

    response = api.post(url(order, "approve"), headers={"If-Match": header})

    assert response.status_code == 412
    body = problem(response)
    assert body["code"] == "precondition_failed"
    assert body["detail"] == (
        f'The resource is now at ETag "1", not {header}. Read it again, then decide.'
    )
    assert status(order) == OrderStatus.DRAFT


def test_a_patch_with_a_stale_etag_names_the_etag_now(api):
    order = factories.make_order()
    line = order.lines.get()
    factories.services.order_flag(order=order, note="changed", actor=factories.SETUP)

    response = api.patch(
        url(order), {"update": [{"line": line.pk, "quantity": 9}]}, headers={"If-Match": '"1"'}
    )

    assert response.status_code == 412
    assert '"2"' in problem(response)["detail"]
    assert Order.objects.get(pk=order.pk).lines.get().quantity == 5


def test_a_patch_changes_lines_and_header_together_or_not_at_all(api):
    order = factories.make_order(national_priority=3)
    line = order.lines.get()

    response = api.patch(
        url(order),
        {"update": [{"line": line.pk, "quantity": 9}], "national_priority": 1, "reason": ""},
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 422, response.content
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.version, fresh.national_priority, fresh.lines.get().quantity) == (1, 3, 5)
