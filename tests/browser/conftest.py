"""Browser tests: Playwright driving the system's Chromium (Debian's package
`chromium`) against the app served by pytest-django's live server."""

import os
import shutil
from functools import partial

import pytest

CHROMIUM = os.environ.get("OMS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's password


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(f"CI=true but Chromium is missing at {CHROMIUM}")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason="needs chromium (apt-get install chromium)"))


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Playwright's sync API keeps an event loop running
    in the test thread while it is open; the ORM calls the tests (and the database
    teardown) make are still synchronous, so Django is told so meanwhile, as
    pytest-playwright does."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield chromium
            chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def sign_in(browser, live_server):
    """A signed-in browser page for a user; each call is a separate session. Whatever
    the page does, the Content-Security-Policy must refuse nothing (checked at the end)."""
    contexts, violations = [], []

    def open_as(user):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.on("console", partial(record_policy_error, violations))
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("User name").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert violations == [], "the browser refused something or found a policy wrong"


def record_policy_error(violations: list, message) -> None:
    """What the browser says the Content-Security-Policy refused, or found wrong in the
    Permissions-Policy."""
    if "Content Security Policy" in message.text or "Permissions-Policy" in message.text:
        violations.append(message.text)
