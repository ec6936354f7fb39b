"""Screenshots of the main back-office screens for the README (`make screenshots`).

It makes a new SQLite database with the demo data, serves the app, signs in as the demo
coordinator in the system's Chromium and saves one PNG per screen under
docs/screenshots/. It fails if the browser refused anything on the way (the
Content-Security-Policy or the Permissions-Policy).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from functools import partial
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import ARGS, CHROMIUM, record_policy_error

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.screenshots")
    parser.add_argument("--only", nargs="*", help="take only these screens (by name)")
    parser.add_argument(
        "--size",
        action="append",
        help="viewport WIDTHxHEIGHT; more than one makes NAME-WIDTHxHEIGHT.png for each "
        "(default: 1366x900, saved as NAME.png)",
    )
    args = parser.parse_args(argv)
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.size or ["1366x900"]]
    workdir = Path(tempfile.mkdtemp(prefix="oms-shots-"))
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}},
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{workdir / 'shots.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "seed_demo"], env=env, check=True, cwd=ROOT, capture_output=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"{base}/login/")
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            refused: list[str] = []
            page.on("console", partial(record_policy_error, refused))
            page.goto(f"{base}/login/")
            page.get_by_label("User name").fill("coordinator")
            page.get_by_label("Password").fill("coordinator-demo-pass")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/")
            revised = _revised_order(env)
            _save_view(page, base)
            shots = {
                "dashboard": "/",
                "queue": "/orders/?status=draft&status=approved&sort=need_by",
                "queue-controls": "/orders/?status=approved&market=NYC&priority=1&priority=2"
                "&need_by_to=2027-06-30&q=sea",
                "saved-views": "/orders/views/",
                "order": f"/orders/{revised}/",
                "lines": f"/orders/{revised}/lines/",
                "dead-letters": "/orders/design-events/?status=invalid",
                "job-runs": "/jobs/",
                "allocation-run": "/allocation/1/",
                "allocation-outcomes": "/allocation/1/?result=short&result=rejected#filters",
                "returns": "/orders/returns/",
                "trends": "/trends/",
            }
            for name, path in shots.items():
                if args.only and name not in args.only:
                    continue
                for width, height in sizes:
                    page.set_viewport_size({"width": width, "height": height})
                    page.goto(base + path)
                    file = f"{name}.png" if len(sizes) == 1 else f"{name}-{width}x{height}.png"
                    page.screenshot(path=str(OUT / file), full_page=False)
                    print(f"{OUT.relative_to(ROOT) / file}  {path}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    for message in refused:
        print(f"refused by the browser: {message}", file=sys.stderr)
    return 1 if refused else 0


def _save_view(page, base: str) -> None:
    """A saved view of the demo coordinator, for the queue's list of views and the saved
    views page."""
    page.goto(f"{base}/orders/?status=draft&priority=1&priority=2&sort=need_by")
    page.get_by_text("Save these filters as a view").click()
    page.get_by_label("Name", exact=True).fill("Urgent drafts")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_load_state()


def _revised_order(env) -> str:
    """An order with an upstream revision, for the order page."""
    code = (
        "from orders.models import Order; "
        "print(Order.objects.filter(revision__gt=1).order_by('id').first().number)"
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip().splitlines()[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


if __name__ == "__main__":
    sys.exit(main())
