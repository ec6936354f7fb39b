"""Bulk actions on the queue report "5 of 6 approved" with why each other order was left
alone, and update the rows in place; the reason lists offer only a person's reasons; a
draft is not rejected; the four-eyes rule shows before the click."""

import re

import pytest
from playwright.sync_api import expect

from oms.actors import Actor
from orders import services
from orders.choices import PERSON_REASON_CODES, OrderStatus, ReasonCode
from orders.models import Order
from tests import factories

# The live server runs in another thread: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="cora", role="coordinator")


@pytest.fixture
def four_eyes(settings):
    settings.OMS_FOUR_EYES = True


def _edit_lines(order, user):
    line = order.lines.get()
    services.order_edit_lines(
        order=order,
        edits=services.LineEdits(quantities={line.pk: line.quantity + 1}),
        actor=Actor.person(user),
    )


def test_bulk_approve_says_how_many_and_why_not_and_updates_the_rows_in_place(
    sign_in, live_server, coordinator, four_eyes
):
    # Given six drafts, one of whose lines the coordinator edited herself
    orders = [factories.make_order() for _ in range(6)]
    edited = orders[2]
    _edit_lines(edited, coordinator)
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/?status=draft", wait_until="load")
    # A marker that is gone if the page is loaded again.
    page.evaluate("window.notReloaded = true")

    # When she selects all six and approves them
    for order in orders:
        page.get_by_label(f"Select {order.number}").check()
    page.get_by_label("Action").select_option("approve")
    page.get_by_role("button", name="Apply").click()

    # Then the top says 5 of 6, and why the sixth was not approved
    report = page.locator("#bulk-results")
    expect(report.locator(".bulk-summary")).to_have_text("5 of 6 approved")
    expect(report.locator("li.bad")).to_have_text(
        f"{edited.number}: you edited its lines, need-by date or priority, so another "
        "coordinator must approve it"
    )
    # and the rows show their new status, without the page being loaded again
    for order in orders:
        row = page.locator("tr", has=page.get_by_label(f"Select {order.number}"))
        status = "Draft" if order == edited else "Approved"
        expect(row.locator(".status")).to_have_text(status)
        box = page.get_by_label(f"Select {order.number}")
        if order == edited:  # only the order left alone stays selected
            expect(box).to_be_checked()
        else:
            expect(box).not_to_be_checked()
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("#results").count() == 1
    statuses = dict(Order.objects.values_list("number", "status"))
    assert [statuses[o.number] for o in orders].count(OrderStatus.APPROVED) == 5


def test_bulk_reject_reports_a_draft_as_not_rejected(sign_in, live_server, coordinator):
    approved = factories.order_in(OrderStatus.APPROVED)
    draft = factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/", wait_until="load")
    for order in (approved, draft):
        page.get_by_label(f"Select {order.number}").check()
    page.get_by_label("Action").select_option("reject")
    page.get_by_label("Reason (reject, cancel)").select_option("data_mismatch")
    page.get_by_label("Why").fill("Wrong antenna count")
    page.get_by_role("button", name="Apply").click()

    report = page.locator("#bulk-results")
    expect(report.locator(".bulk-summary")).to_have_text("1 of 2 rejected")
    expect(report.locator("li.bad")).to_have_text(f"{draft.number}: it is already a draft")
    assert Order.objects.get(pk=approved.pk).status == OrderStatus.DRAFT
    assert Order.objects.get(pk=draft.pk).reason_code == ""


def test_the_reason_lists_offer_only_the_reasons_a_person_gives(sign_in, live_server, coordinator):
    order = factories.order_in(OrderStatus.APPROVED)
    page = sign_in(coordinator)
    person = {code.value for code in PERSON_REASON_CODES}
    system = set(ReasonCode.values) - person
    assert ReasonCode.WAREHOUSE_REJECTED in system and ReasonCode.UPSTREAM_CHANGE in system

    page.goto(f"{live_server.url}/orders/{order.number}/")
    for name in ("Reject to draft", "Cancel"):
        page.locator("summary", has_text=name).click()
    for select in ("#id_reject_reason_code", "#id_cancel_reason_code"):
        offered = set(page.locator(f"{select} option").evaluate_all("os => os.map(o => o.value)"))
        assert offered == person | {""}, select
    expect(page.locator("#id_reject_reason_code")).not_to_contain_text("Rejected by the warehouse")

    page.goto(f"{live_server.url}/orders/")
    offered = page.locator("#id_bulk_reason_code option").evaluate_all("os => os.map(o => o.value)")
    assert set(offered) == person | {""}


def test_a_draft_offers_no_reject_to_draft(sign_in, live_server, coordinator):
    draft = factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/{draft.number}/")
    actions = page.get_by_role("region", name="Actions")
    expect(actions.get_by_role("button", name="Approve")).to_be_visible()
    expect(actions.locator("summary", has_text="Cancel")).to_be_visible()
    expect(actions).not_to_contain_text("Reject to draft")


def test_the_editor_sees_approve_disabled_with_why_and_another_coordinator_may_approve(
    sign_in, live_server, coordinator, four_eyes
):
    order = factories.make_order()
    _edit_lines(order, coordinator)
    url = f"{live_server.url}/orders/{order.number}/"

    page = sign_in(coordinator)
    page.goto(url)
    approve = page.get_by_role("button", name="Approve")
    expect(approve).to_be_disabled()
    expect(approve).to_have_accessible_description(
        "You edited the lines, need-by date or priority; another coordinator approves this order."
    )
    expect(page.get_by_role("region", name="Actions")).to_contain_text(
        "You edited the lines, need-by date or priority; another coordinator approves this order."
    )

    other = sign_in(factories.UserFactory(username="otto", role="coordinator"))
    other.goto(url)
    approve = other.get_by_role("button", name="Approve")
    expect(approve).to_be_enabled()
    expect(other.get_by_role("region", name="Actions")).not_to_contain_text("You edited")
    approve.click()
    expect(other.get_by_role("status")).to_contain_text("Approve: done.")
    expect(other.locator("h1 .status")).to_have_text(re.compile("Approved"))
