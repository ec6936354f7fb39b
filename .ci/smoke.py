"""Smoke test of the embedded default: a fresh SQLite file, no broker. Migrate, seed the
demo data, start the server, sign in as the demo users and render the main pages."""

import http.cookiejar
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"

# Pages each demo user must be able to open.
PAGES = {
    "admin": [
        "/",
        "/admin/",
        "/admin/catalog/item/",
        "/admin/catalog/kit/",
        "/admin/catalog/kitversion/",
        "/admin/orders/project/",
        "/admin/orders/order/",
        "/admin/orders/order/?status__exact=allocated",
        "/admin/warehouse/warehouse/",
        "/admin/warehouse/stocklevel/",
        "/admin/warehouse/stockmovement/",
        "/admin/oms/outboxevent/",
        "/admin/oms/apiclient/",
        "/api/v1/orders/",
        "/api/v1/docs/",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/api/v1/schema/",
    ],
    "coordinator": [
        "/",
        "/orders/",
        "/orders/?status=draft&sort=need_by",
        "/orders/MO-0000001/",
        "/orders/MO-0000001/lines/",
        "/orders/design-events/",
        "/jobs/",
        "/admin/orders/order/",
    ],
    "viewer": ["/", "/orders/", "/orders/MO-0000001/"],
}


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="oms-smoke-"))
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{workdir / 'smoke.sqlite3'}",
    }
    python = str(ROOT / ".venv" / "bin" / "python")
    manage = [python, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, cwd=ROOT)
    seeded = subprocess.run(
        [*manage, "seed_demo"], env=env, check=True, cwd=ROOT, capture_output=True, text=True
    )
    print(seeded.stdout)
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{PORT}", "--noreload"], env=env, cwd=ROOT
    )
    try:
        wait_for_server()
        failures = []
        for user, pages in PAGES.items():
            opener = sign_in(user, demo_password(seeded.stdout, user))
            for page in pages:
                status, body = fetch(opener, page)
                ok = status == 200 and "Traceback" not in body
                print(f"{'ok ' if ok else 'BAD'} {status} {user:12} {page}")
                if not ok:
                    failures.append((user, page, status))
        # the order detail page of some order
        opener = sign_in("admin", demo_password(seeded.stdout, "admin"))
        _, listing = fetch(opener, "/admin/orders/order/")
        match = re.search(r'href="(/admin/orders/order/\d+/change/)"', listing)
        if not match:
            failures.append(("admin", "an order change page link", 0))
        else:
            status, _ = fetch(opener, match.group(1))
            print(f"{'ok ' if status == 200 else 'BAD'} {status} admin        {match.group(1)}")
            if status != 200:
                failures.append(("admin", match.group(1), status))
    finally:
        server.terminate()
        server.wait(timeout=10)
    if failures:
        print("smoke test failed:", failures)
        return 1
    print("smoke test passed")
    return 0


def demo_password(output: str, user: str) -> str:
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == user:
            return parts[1]
    raise SystemExit(f"seed_demo did not print a login for {user!r}")


def wait_for_server() -> None:
    for _ in range(60):
        try:
            urllib.request.urlopen(f"{BASE}/login/", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    raise SystemExit("the server did not start")


def sign_in(user: str, password: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    _, page = fetch(opener, "/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"username": user, "password": password, "csrfmiddlewaretoken": token, "next": "/"}
    ).encode()
    request = urllib.request.Request(f"{BASE}/login/", data=data, headers={"Referer": BASE})
    response = opener.open(request, timeout=30)
    if response.geturl().rstrip("/").endswith("/login"):
        raise SystemExit(f"could not sign in as {user}")
    return opener


def fetch(opener, path: str) -> tuple[int, str]:
    try:
        response = opener.open(f"{BASE}{path}", timeout=60)
        return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


if __name__ == "__main__":
    sys.exit(main())
