"""Keyboard shortcuts on the queue and the order page, listed in a dialog that "?" opens;
they wait while the coordinator types, and never get round the four-eyes rule."""

import re

import pytest
from playwright.sync_api import expect

from oms.actors import Actor
from orders import services
from orders.choices import OrderStatus
from orders.models import Order
from tests import factories

# The live server runs in another thread: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

FOUR_EYES_HINT = (
    "You edited the lines, need-by date or priority; another coordinator approves this order."
)


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="kay", role="coordinator")


def marked_rows(page):
    return page.locator("#results tbody tr[aria-current]")


def test_question_mark_opens_the_list_of_shortcuts_and_escape_closes_it(
    sign_in, live_server, coordinator
):
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/")
    expect(page.get_by_role("button", name="Press ? for keyboard shortcuts")).to_be_visible()
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_hidden()

    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    for text in (
        "Open the marked order",
        "Search",
        "Go to the dashboard",
        "Approve",
        "Write a note",
    ):
        expect(dialog).to_contain_text(text)
    # the focus is in the dialog, and it is modal
    assert page.evaluate("document.activeElement.closest('dialog') !== null")
    assert page.evaluate("document.getElementById('shortcuts').matches(':modal')")
    # while it is open, the queue's keys do nothing
    page.keyboard.press("j")
    expect(marked_rows(page)).to_have_count(0)

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # "?" again closes it too, and the focus goes back where it was
    page.get_by_role("button", name="Filter").focus()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    page.keyboard.press("?")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Filter")).to_be_focused()


def test_j_j_enter_opens_the_second_order_of_the_queue(sign_in, live_server, coordinator):
    for _ in range(3):
        factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/")
    numbers = page.locator("#results tbody tr th a").all_inner_texts()
    assert len(numbers) == 3

    page.keyboard.press("j")
    expect(marked_rows(page)).to_have_count(1)
    expect(marked_rows(page).locator("th a")).to_have_text(numbers[0])
    page.keyboard.press("j")
    expect(marked_rows(page)).to_have_count(1)
    expect(marked_rows(page).locator("th a")).to_have_text(numbers[1])
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/orders/{numbers[1]}/")


def test_arrow_keys_move_the_mark_when_the_queue_table_has_the_focus(
    sign_in, live_server, coordinator
):
    for _ in range(3):
        factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/")
    numbers = page.locator("#results tbody tr th a").all_inner_texts()
    page.locator("#results .table-scroll").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(marked_rows(page).locator("th a")).to_have_text(numbers[1])
    page.keyboard.press("o")
    expect(page).to_have_url(f"{live_server.url}/orders/{numbers[1]}/")


def test_slash_focuses_the_search_and_letters_typed_there_stay_letters(
    sign_in, live_server, coordinator
):
    factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/")
    page.keyboard.press("/")
    search = page.get_by_label("Search")
    expect(search).to_be_focused()
    expect(search).to_have_value("")  # the slash itself is not typed
    page.keyboard.type("jk")
    expect(search).to_have_value("jk")
    expect(marked_rows(page)).to_have_count(0)


def test_x_selects_the_marked_order_for_a_bulk_action(sign_in, live_server, coordinator):
    orders = [factories.make_order() for _ in range(2)]
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/")
    page.keyboard.press("j")
    number = marked_rows(page).locator("th a").inner_text()
    assert number in {order.number for order in orders}
    box = page.get_by_label(f"Select {number}")
    page.keyboard.press("x")
    expect(box).to_be_checked()
    page.keyboard.press("x")
    expect(box).not_to_be_checked()


def test_the_mark_stays_on_its_order_after_filtering_or_goes(sign_in, live_server, coordinator):
    kept, gone = factories.make_order(), factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/")
    for _ in range(2):
        page.keyboard.press("j")
        if marked_rows(page).locator("th a").all_inner_texts() == [kept.number]:
            break
    expect(marked_rows(page).locator("th a")).to_have_text(kept.number)
    page.get_by_label("Search").fill(kept.number)
    page.get_by_label("Search").press("Enter")
    expect(page.locator("#queue-count")).to_have_text("1 order")
    expect(marked_rows(page).locator("th a")).to_have_text(kept.number)

    page.get_by_label("Search").fill(gone.number)
    page.get_by_label("Search").press("Enter")
    expect(page.locator("#results")).to_contain_text(gone.number)
    expect(page.locator("#results")).not_to_contain_text(kept.number)
    expect(marked_rows(page)).to_have_count(0)


def test_a_approves_the_order_and_n_focuses_the_note(sign_in, live_server, coordinator):
    order = factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    page.keyboard.press("n")
    expect(page.locator("#notes textarea")).to_be_focused()
    page.keyboard.type("an")  # letters in the note box stay letters
    expect(page.locator("#notes textarea")).to_have_value("an")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT

    page.locator("#notes textarea").blur()
    page.keyboard.press("a")
    expect(page.get_by_role("status")).to_contain_text("Approve: done.")
    expect(page.locator("h1 .status")).to_have_text("Approved")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.APPROVED


def test_a_does_not_approve_for_the_coordinator_who_edited_the_lines_and_says_why(
    sign_in, live_server, coordinator, settings
):
    settings.OMS_FOUR_EYES = True
    order = factories.make_order()
    line = order.lines.get()
    services.order_edit_lines(
        order=order,
        edits=services.LineEdits(quantities={line.pk: line.quantity + 1}),
        actor=Actor.person(coordinator),
    )
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    page.keyboard.press("a")
    expect(page.locator("#shortcut-says")).to_have_text(
        f"Approve is not available: {FOUR_EYES_HINT}"
    )
    expect(page.locator("h1 .status")).to_have_text("Draft")
    page.wait_for_timeout(300)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_modifier_keys_leave_the_shortcuts_alone(sign_in, live_server, coordinator):
    order = factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    for chord in ("Control+a", "Alt+a", "Meta+a"):
        page.keyboard.press(chord)
    page.wait_for_timeout(300)
    expect(page.locator("h1 .status")).to_have_text("Draft")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_g_then_o_and_g_then_d_go_to_the_queue_and_the_dashboard(sign_in, live_server, coordinator):
    order = factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    page.keyboard.press("g")
    page.keyboard.press("o")
    expect(page).to_have_url(f"{live_server.url}/orders/")
    page.keyboard.press("g")
    page.keyboard.press("d")
    expect(page).to_have_url(f"{live_server.url}/")


def test_u_goes_back_to_the_queue_keeping_its_filters(sign_in, live_server, coordinator):
    order = factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/?status=draft&sort=need_by")
    page.get_by_role("link", name=order.number).click()
    expect(page).to_have_url(f"{live_server.url}/orders/{order.number}/")
    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(r"/orders/\?status=draft&sort=need_by$"))

    # After approving (the order page reloads), "u" still finds the filtered queue
    page.get_by_role("link", name=order.number).click()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("h1 .status")).to_have_text("Approved")
    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(r"/orders/\?status=draft&sort=need_by$"))


def test_u_opens_the_queue_for_someone_who_never_saw_it(sign_in, live_server, coordinator):
    order = factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    page.keyboard.press("u")
    expect(page).to_have_url(f"{live_server.url}/orders/")


def test_e_opens_edit_lines(sign_in, live_server, coordinator):
    order = factories.make_order()
    page = sign_in(coordinator)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    page.keyboard.press("e")
    expect(page).to_have_url(f"{live_server.url}/orders/{order.number}/lines/")
