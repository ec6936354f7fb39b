"""Webhook subscriptions and failed deliveries in the back office; subscriptions and
their secrets in the admin."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from oms import audit, webhooks
from oms.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from tests import factories
from tests.factories import SETUP
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


@pytest.fixture
def subscription():
    made, _ = webhooks.subscription_create(
        name="erp", url="http://127.0.0.1:9/hooks", event_types=["order.*"], actor=SETUP
    )
    return made


def a_delivery(subscription, status=Status.FAILED, **fields):
    event = OutboxEvent.objects.create(
        event_type="order.approved", aggregate_type="order", aggregate_id="1", payload={}
    )
    now = timezone.now()
    with audit.acting(SETUP):
        return WebhookDelivery.objects.create(
            subscription=subscription,
            event=event,
            status=status,
            attempts=fields.pop("attempts", 7),
            last_status_code=fields.pop("last_status_code", 503),
            last_error=fields.pop("last_error", "HTTP 503 Service Unavailable"),
            next_attempt_at=now if status == Status.PENDING else None,
            delivered_at=now if status == Status.DELIVERED else None,
            retrying_since=now - datetime.timedelta(hours=25),
            **fields,
        )


def test_the_subscriptions_page_counts_deliveries_per_status(coordinator_client, subscription):
    for status in [Status.FAILED, Status.FAILED, Status.DELIVERED, Status.PENDING]:
        a_delivery(subscription, status)

    response = coordinator_client.get(reverse("webhooks"))

    (row,) = response.context["subscriptions"]
    assert (row.pending, row.delivered, row.failed) == (1, 1, 2)
    assert "http://127.0.0.1:9/hooks" in response.content.decode()


def test_the_failed_deliveries_page_lists_failed_ones_with_retry_buttons(
    coordinator_client, subscription
):
    failed = a_delivery(subscription)
    delivered = a_delivery(subscription, Status.DELIVERED)

    page = coordinator_client.get(reverse("webhook_deliveries")).content.decode()

    assert f'href="{reverse("webhook_delivery", args=[failed.pk])}"' in page
    assert f'href="{reverse("webhook_delivery", args=[delivered.pk])}"' not in page
    assert reverse("webhook_retry_one", args=[failed.pk]) in page
    assert "Retry selected" in page and "HTTP 503" in page


def test_the_deliveries_page_runs_a_fixed_number_of_queries(
    coordinator_client, subscription, django_assert_max_num_queries
):
    a_delivery(subscription)
    with django_assert_max_num_queries(12) as few:
        coordinator_client.get(reverse("webhook_deliveries"))
    for _ in range(10):
        a_delivery(subscription)
    with django_assert_max_num_queries(len(few.captured_queries)):
        coordinator_client.get(reverse("webhook_deliveries"))


def test_a_viewer_sees_deliveries_but_no_retry(viewer_client, subscription):
    failed = a_delivery(subscription)
    page = viewer_client.get(reverse("webhook_deliveries")).content.decode()
    assert f"#{failed.pk}" in page and "Retry" not in page


@pytest.mark.parametrize("url", ["webhook_retry_one", "webhook_retry"])
def test_retry_is_refused_without_permission(viewer_client, subscription, url):
    failed = a_delivery(subscription)
    args = [failed.pk] if url == "webhook_retry_one" else []
    response = viewer_client.post(reverse(url, args=args), {"deliveries": [failed.pk]})
    assert response.status_code == 403
    assert WebhookDelivery.objects.get(pk=failed.pk).status == Status.FAILED


@pytest.mark.parametrize("url", ["webhook_retry_one", "webhook_retry"])
def test_retry_needs_the_csrf_token(coordinator, subscription, url):
    http = Client(enforce_csrf_checks=True)
    http.force_login(coordinator)
    failed = a_delivery(subscription)
    args = [failed.pk] if url == "webhook_retry_one" else []
    response = http.post(reverse(url, args=args), {"deliveries": [failed.pk]})
    assert response.status_code == 403
    assert WebhookDelivery.objects.get(pk=failed.pk).status == Status.FAILED


def test_retrying_one_delivery_sends_it_again(
    coordinator_client, coordinator, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        subscription, _ = webhooks.subscription_create(
            name="bi", url=receiver.url, event_types=["*"], actor=SETUP
        )
        failed = a_delivery(subscription)

        with django_capture_on_commit_callbacks(execute=True):
            response = coordinator_client.post(
                reverse("webhook_retry_one", args=[failed.pk]), headers={"HX-Request": "true"}
            )

        assert len(receiver.received) == 1
    assert response["HX-Trigger"] == "deliveries-retried"
    assert "Queued for delivery." in response.content.decode()
    delivery = WebhookDelivery.objects.get(pk=failed.pk)
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)
    assert delivery.history.filter(history_user=coordinator).exists()


def test_bulk_retry_reports_each_delivery(coordinator_client, subscription):
    failed = [a_delivery(subscription) for _ in range(2)]
    delivered = a_delivery(subscription, Status.DELIVERED)

    response = coordinator_client.post(
        reverse("webhook_retry"),
        {"deliveries": [d.pk for d in [*failed, delivered]]},
        headers={"HX-Request": "true"},
    )

    text = response.content.decode()
    assert text.count('class="ok"') == 2 and text.count('class="neutral"') == 1
    assert "Already delivered at " in text and ": not sent again." in text
    statuses = set(
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in failed]).values_list(
            "status", flat=True
        )
    )
    assert statuses == {Status.PENDING}


def test_retry_without_a_selection_says_so(coordinator_client, subscription):
    response = coordinator_client.post(reverse("webhook_retry"), follow=True)
    assert b"Select at least one delivery." in response.content


def test_a_delivery_page_shows_the_body_and_every_attempt(coordinator_client, subscription):
    failed = a_delivery(subscription)

    page = coordinator_client.get(reverse("webhook_delivery", args=[failed.pk])).content.decode()

    assert "order.approved" in page and "HTTP 503" in page
    assert f"&quot;id&quot;: {failed.event_id}" in page


def test_a_pending_delivery_whose_retry_is_overdue_says_so_and_can_be_retried_now(
    coordinator_client, subscription, django_capture_on_commit_callbacks
):
    pending = a_delivery(
        subscription,
        Status.PENDING,
        attempts=1,
        last_status_code=None,
        last_error="ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9)",
    )
    due = timezone.now() - datetime.timedelta(minutes=30)
    WebhookDelivery.objects.filter(pk=pending.pk).update(next_attempt_at=due)

    page = coordinator_client.get(reverse("webhook_delivery", args=[pending.pk])).content.decode()
    listed = coordinator_client.get(reverse("webhook_deliveries"), {"status": "pending"})
    with django_capture_on_commit_callbacks(execute=True) as sent:
        response = coordinator_client.post(reverse("webhook_retry_one", args=[pending.pk]))

    assert "Overdue." in page and f"was due at {timezone.localtime(due):%H:%M}; overdue" in page
    assert "The receiver could not be reached." in page and "HTTPConnectionPool" not in page
    assert "Retry now" in page
    assert "Overdue" in listed.content.decode() and "Retry delivery" in listed.content.decode()
    assert len(sent) >= 1  # the delivery task, queued after commit (then its retry)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Delivery #{pending.pk}: Queued for delivery."
    ]
    pending.refresh_from_db()
    assert pending.status == Status.PENDING and pending.attempts == 2  # tried at once, failed
    assert pending.history.filter(history_change_reason="retried by hand").exists()


def test_retrying_a_delivered_delivery_does_nothing_and_says_so(coordinator_client, subscription):
    delivered = a_delivery(subscription, Status.DELIVERED)

    response = coordinator_client.post(reverse("webhook_retry_one", args=[delivered.pk]))

    (message,) = get_messages(response.wsgi_request)
    assert message.level_tag == "info" and "Already delivered at" in str(message)
    assert "not sent again" in str(message)
    assert WebhookDelivery.objects.get(pk=delivered.pk).attempts == delivered.attempts
    page = coordinator_client.get(reverse("webhook_delivery", args=[delivered.pk])).content
    assert b"Retry now" not in page


# --- Admin ------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client):
    client.force_login(factories.UserFactory(is_superuser=True))
    return client


def test_a_subscription_added_in_the_admin_shows_its_secret_once(superuser_client):
    response = superuser_client.post(
        reverse("admin:oms_webhooksubscription_add"),
        {
            "name": "erp",
            "url": "https://erp.example.com/oms",
            "event_types": "order.*, stock.below_minimum",
            "active": "on",
        },
        follow=True,
    )

    subscription = WebhookSubscription.objects.get()
    assert subscription.event_types == ["order.*", "stock.below_minimum"]
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(subscription.secret in message for message in shown)
    change = superuser_client.get(
        reverse("admin:oms_webhooksubscription_change", args=[subscription.pk])
    )
    assert subscription.secret not in change.content.decode()
    record = subscription.history.get()
    assert record.actor_kind == "person"


def test_the_admin_refuses_event_types_that_are_not_event_types(superuser_client):
    response = superuser_client.post(
        reverse("admin:oms_webhooksubscription_add"),
        {"name": "erp", "url": "https://erp.example.com/oms", "event_types": "all orders!"},
    )
    assert response.status_code == 200
    assert "is not an event type" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_a_secret_set_in_the_admin_replaces_the_old_one(superuser_client, subscription):
    superuser_client.post(
        reverse("admin:oms_webhooksubscription_change", args=[subscription.pk]),
        {
            "name": "erp",
            "url": subscription.url,
            "event_types": "order.*",
            "active": "on",
            "new_secret": "the-receivers-own-secret",
        },
    )
    subscription.refresh_from_db()
    assert subscription.secret == "the-receivers-own-secret"
