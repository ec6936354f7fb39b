"""Sign-in throttling: after OMS_LOGIN_FAILURE_LIMIT failures for one user name, or from
one address, both are refused for OMS_LOGIN_LOCKOUT_MINUTES, even with the right
password, with a page that says when to try again."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F
from django.test import RequestFactory
from django.urls import reverse

from oms.client_ip import client_ip
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"


@pytest.fixture
def dana():
    return factories.UserFactory(username="dana", role="coordinator")


def sign_in(client, username, password, address="192.0.2.1", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def assert_locked_out(response):
    assert response.status_code == 429
    page = response.content.decode()
    assert "<h1>Sign-in paused</h1>" in page
    assert "Try again after" in page
    assert f"in about {settings.OMS_LOGIN_LOCKOUT_MINUTES} minutes" in page
    assert '<link rel="stylesheet" href="/static/css/oms.css">' in page
    assert int(response["Retry-After"]) == settings.OMS_LOGIN_LOCKOUT_MINUTES * 60
    assert "_auth_user_id" not in response.wsgi_request.session


def test_forty_wrong_passwords_lock_the_user_out_even_with_the_right_one(client, dana):
    # given 40 wrong passwords, each from another address (so only the user name counts)
    for n in range(40):
        response = sign_in(client, "dana", "wrong", address=f"198.51.100.{n + 1}")
    assert_locked_out(response)

    # then the right password, from an address that never failed, is refused too
    assert_locked_out(sign_in(client, "dana", PASSWORD, address="203.0.113.50"))


def test_a_few_wrong_passwords_do_not_lock(client, dana):
    for _ in range(settings.OMS_LOGIN_FAILURE_LIMIT - 1):
        assert sign_in(client, "dana", "wrong").status_code == 200
    assert sign_in(client, "dana", PASSWORD).status_code == 302


def test_signing_in_to_another_account_does_not_clear_the_failures(client, dana):
    # given an attacker with an account of their own, guessing at dana's password
    factories.UserFactory(username="mallory", role="viewer")
    for _ in range(settings.OMS_LOGIN_FAILURE_LIMIT - 1):
        sign_in(client, "dana", "wrong")

    assert sign_in(client, "mallory", PASSWORD).status_code == 302
    client.post(reverse("logout"))

    assert_locked_out(sign_in(client, "dana", "wrong"))
    assert_locked_out(sign_in(client, "dana", PASSWORD, address="203.0.113.50"))


def test_failures_from_one_address_lock_the_address_for_every_user(client, dana):
    # given failures for other user names, all from one address
    for n in range(settings.OMS_LOGIN_FAILURE_LIMIT):
        sign_in(client, f"guess{n}", "wrong", address="192.0.2.66")

    assert_locked_out(sign_in(client, "dana", PASSWORD, address="192.0.2.66"))
    assert sign_in(client, "dana", PASSWORD, address="192.0.2.67").status_code == 302


def test_the_lockout_ends_after_the_period(client, dana):
    for _ in range(settings.OMS_LOGIN_FAILURE_LIMIT):
        sign_in(client, "dana", "wrong")
    assert_locked_out(sign_in(client, "dana", PASSWORD))

    # when the lockout period has passed since the last failure
    period = datetime.timedelta(minutes=settings.OMS_LOGIN_LOCKOUT_MINUTES, seconds=1)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - period)

    assert sign_in(client, "dana", PASSWORD).status_code == 302


def test_behind_a_proxy_the_address_it_saw_counts_not_what_the_client_claims(
    client, dana, settings
):
    # given one proxy in front of OMS, and a client that sends a new X-Forwarded-For each try
    settings.OMS_PROXY_COUNT = 1
    for n in range(settings.OMS_LOGIN_FAILURE_LIMIT):
        sign_in(
            client,
            f"guess{n}",
            "wrong",
            address="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.9",
        )

    locked = sign_in(
        client, "dana", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.9"
    )
    assert_locked_out(locked)
    other = sign_in(
        client, "dana", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.10"
    )
    assert other.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.1", "10.0.0.2"),
        (1, "203.0.113.1, 198.51.100.9", "198.51.100.9"),
        (2, "203.0.113.1, 198.51.100.9, 10.0.0.1", "198.51.100.9"),
        (2, "198.51.100.9", "198.51.100.9"),
        (1, "", "10.0.0.2"),
        (1, "not-an-address", "10.0.0.2"),
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(
    settings, proxies, forwarded, expected
):
    settings.OMS_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
