"""A coordinator sees in plain words where a release request and a webhook delivery
really are, when the warehouse or the receiver cannot be reached: on the order page, in
the queue, on the dashboard and on the delivery's page, and sends them again from there.
Port 9 (discard) refuses connections: an unreachable warehouse or receiver."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from oms import audit, webhooks
from oms.models import OutboxEvent, WebhookDelivery
from orders import services
from orders.choices import OrderStatus
from tests import factories
from tests.webhook_receiver import Receiver
from warehouse.integration import dispatch
from warehouse.integration.models import Release

# The live server runs in another thread: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

UNREACHABLE = "http://127.0.0.1:9"
# What a coordinator must never be shown: Python's words for a refused connection.
RAW_ERROR_WORDS = ["HTTPConnectionPool", "Errno", "NewConnectionError", "connection failed"]


@pytest.fixture
def coordinator():
    return factories.UserFactory(username="rita", role="coordinator")


@pytest.fixture
def unreachable_warehouse(settings):
    """Every warehouse's system refuses connections; releases are sent as soon as they
    commit (in-process: one attempt, then OMS gives up and leaves it to a person)."""
    settings.OMS_WAREHOUSE_URL = UNREACHABLE
    settings.OMS_WAREHOUSE_CONNECT_TIMEOUT_SECONDS = 1
    settings.OMS_RELAY_KICK = True


def expect_no_raw_error(page):
    text = page.locator("main").inner_text()
    for words in RAW_ERROR_WORDS:
        assert words not in text, f"{words!r} shown to a coordinator"


def test_a_release_to_an_unreachable_warehouse_says_it_was_not_delivered_and_why(
    sign_in, coordinator, unreachable_warehouse
):
    order = factories.order_in(OrderStatus.ALLOCATED)
    page = sign_in(coordinator)
    page.goto(page.url + f"orders/{order.number}/")

    page.get_by_role("button", name="Release to warehouse").click()

    release = Release.objects.get(order=order)
    code = release.warehouse.code
    flash = page.locator(".message")
    expect(flash).to_contain_text(f"Not delivered to warehouse {code}.")
    expect(flash).to_contain_text("The warehouse could not be reached.")
    expect(flash).not_to_contain_text("done")
    section = page.locator(f"#release-{release.release_id}")
    expect(section).to_contain_text("Release not delivered")
    expect(section).to_contain_text("The warehouse could not be reached.")
    expect(section).to_contain_text(f"Check with warehouse {code} that their system is up")
    expect(section.get_by_role("button", name="Send again")).to_be_visible()
    expect(section.locator("details.technical")).to_have_count(0)  # not staff
    expect_no_raw_error(page)

    page.get_by_role("link", name="← Orders").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=order.number))
    expect(row).to_contain_text("Release not delivered")
    expect(row).to_contain_text("The warehouse could not be reached.")
    expect_no_raw_error(page)


def test_a_release_being_retried_shows_its_attempts_and_next_attempt(
    sign_in, coordinator, settings
):
    # Given a release queued (no worker has sent it yet)...
    settings.OMS_WAREHOUSE_URL = UNREACHABLE
    settings.OMS_WAREHOUSE_CONNECT_TIMEOUT_SECONDS = 1
    order = factories.order_in(OrderStatus.RELEASED)
    release = Release.objects.get(order=order)
    page = sign_in(coordinator)
    page.goto(page.url + f"orders/?q={order.number}")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=order.number))
    expect(row).to_contain_text("Sending to warehouse")
    expect(row).to_contain_text("Queued, not delivered yet")

    # ...whose first attempt failed, a retry being due later
    with pytest.raises(dispatch.RetryLater):
        dispatch.release_send(release_pk=release.pk, attempt=1, last_try=False)
    release.refresh_from_db()
    due = timezone.localtime(release.next_attempt_at).strftime("%H:%M")

    page.reload()
    expect(row).to_contain_text("Retrying delivery")
    expect(row).to_contain_text(f"1 attempt failed; next at {due}")
    row.get_by_role("link", name=order.number).click()
    section = page.locator(f"#release-{release.release_id}")
    expect(section).to_contain_text(
        f"Retrying delivery to warehouse {release.warehouse.code} (1 attempt failed so far). "
        f"The warehouse could not be reached. Next attempt at {due}."
    )
    expect_no_raw_error(page)


def test_the_dashboard_lists_an_undelivered_release_and_a_failed_webhook_delivery(
    sign_in, coordinator, unreachable_warehouse
):
    order = factories.order_in(OrderStatus.ALLOCATED)
    services.order_release(order=order, actor=factories.SETUP)  # sent at commit: refused
    release = Release.objects.get(order=order)
    assert release.delivery_failed_at is not None
    subscription, _ = webhooks.subscription_create(
        name="erp", url=f"{UNREACHABLE}/hook", event_types=["*"], actor=factories.SETUP
    )
    with audit.acting(factories.SETUP):
        failed = WebhookDelivery.objects.create(
            subscription=subscription,
            event=OutboxEvent.objects.filter(event_type="order.released").get(),
            status=WebhookDelivery.Status.FAILED,
            attempts=7,
            last_error="ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9)",
            retrying_since=timezone.now(),
        )
    page = sign_in(coordinator)

    attention = page.get_by_role("region", name="Needs attention")
    undelivered = attention.get_by_role("list", name="Releases not delivered to a warehouse")
    expect(undelivered).to_contain_text(
        f"{order.number}: release to warehouse {release.warehouse.code} not delivered. "
        "The warehouse could not be reached."
    )
    webhook = attention.get_by_role("list", name="1 failed webhook delivery")
    expect(webhook).to_contain_text(
        f"Delivery #{failed.pk} of order.released to erp: The receiver could not be reached."
    )
    expect_no_raw_error(page)

    undelivered.get_by_role("link", name=order.number).click()
    expect(
        page.locator(f"#release-{release.release_id}").get_by_role("button", name="Send again")
    ).to_be_visible()
    page.go_back()
    attention.get_by_role("link", name=f"Delivery #{failed.pk}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Delivery #{failed.pk}")
    expect(page.get_by_role("button", name="Retry now")).to_be_visible()


def test_a_pending_delivery_whose_retry_is_overdue_says_so_and_is_retried_from_its_page(
    sign_in, coordinator
):
    # Given a delivery whose attempt failed, and whose retry no worker made
    with Receiver() as receiver:
        subscription, _ = webhooks.subscription_create(
            name="erp", url=receiver.url, event_types=["*"], actor=factories.SETUP
        )
        factories.make_order()
        due = timezone.now() - datetime.timedelta(minutes=30)
        with audit.acting(factories.SETUP):
            pending = WebhookDelivery.objects.create(
                subscription=subscription,
                event=OutboxEvent.objects.first(),
                attempts=1,
                next_attempt_at=due,
                retrying_since=due - datetime.timedelta(minutes=1),
                last_error="ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9)",
            )
        page = sign_in(coordinator)
        page.goto(page.url + f"webhooks/deliveries/{pending.pk}/")

        # the page tells the truth: overdue, not just "Pending"
        banner = page.locator(".banner")
        expect(banner).to_contain_text("Overdue.")
        expect(banner).to_contain_text(
            "Attempt 1 failed: The receiver could not be reached. Waiting to retry — the next "
            f"attempt was due at {timezone.localtime(due):%H:%M}; overdue"
        )
        expect_no_raw_error(page)

        # the receiver is back: Retry now delivers it
        page.get_by_role("button", name="Retry now").click()

        expect(page.locator(".message")).to_contain_text(
            f"Delivery #{pending.pk}: Sent again and delivered."
        )
        expect(page.get_by_role("heading", level=1)).to_contain_text("Delivered")
        expect(page.get_by_role("button", name="Retry now")).to_have_count(0)
        assert len(receiver.received) == 1
        pending.refresh_from_db()
        assert pending.status == WebhookDelivery.Status.DELIVERED
