"""The Content-Security-Policy refuses nothing OMS itself does: htmx requests and
swaps, the queue's script, and the Django admin's change form."""

from functools import partial

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import record_policy_error

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_back_office_and_the_admin_run_under_the_policy(sign_in, live_server):
    admin = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    order = factories.make_order()
    page = sign_in(admin)
    violations = []
    page.on("console", partial(record_policy_error, violations))

    # the queue: its script and an htmx filter swap
    page.goto(f"{live_server.url}/orders/")
    expect(page.get_by_role("link", name=order.number)).to_be_visible()
    page.goto(f"{live_server.url}/orders/{order.number}/")
    expect(page.get_by_role("heading", name=order.number)).to_be_visible()
    # the admin's change form, with its scripts and styles
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    expect(page.locator("#content h1")).to_be_visible()
    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.locator(".swagger-ui .info")).to_be_visible()

    assert violations == []


def test_an_inline_script_would_be_refused(browser, live_server):
    """The check above can fail: the browser reports what the policy refuses."""
    context = browser.new_context()
    page = context.new_page()
    violations = []
    page.on("console", partial(record_policy_error, violations))
    page.goto(f"{live_server.url}/login/")

    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = true'; document.body.append(s); }"
    )

    page.wait_for_timeout(200)
    context.close()
    assert violations and "script-src" in violations[0]
