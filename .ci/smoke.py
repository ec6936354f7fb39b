"""Smoke test of the embedded default: a fresh SQLite file, no broker server. Migrate, seed
the demo data, start the server, a Celery worker, beat (both on the embedded broker, a
folder of its own) and the warehouse simulator as `make run` does, sign in as the demo
users and render the main pages, then release an order and watch it close through the
worker and the simulator, and see beat send its schedules."""

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    """A port nobody listens on, so that two smoke runs on one machine do not meet."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PORT = int(os.environ.get("OMS_SMOKE_PORT") or _free_port())
SIM_PORT = int(os.environ.get("OMS_SMOKE_SIMULATOR_PORT") or _free_port())
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
        "/admin/warehouse/release/",
        "/admin/warehouse/warehousecall/",
        "/admin/warehouse/warehousecallback/",
        "/admin/oms/outboxevent/",
        "/admin/oms/apiclient/",
        "/admin/oms/webhooksubscription/",
        "/admin/oms/webhooksubscription/add/",
        "/admin/oms/webhookdelivery/",
        "/admin/warehouse/stocklevel/1/minimum/",
        "/admin/warehouse/stocklevel/1/history/",
        "/admin/allocation/rankingconfig/1/change/",
        "/admin/allocation/allocationrun/",
        "/api/v1/orders/",
        "/api/v1/allocation-runs/1/outcomes/",
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
        "/orders/returns/",
        "/orders/returns/?state=resolved",
        "/inventory/",
        "/inventory/?below_minimum=true",
        "/inventory/1/ledger/?field=reserved",
        "/webhooks/",
        "/webhooks/deliveries/",
        "/jobs/",
        "/allocation/",
        "/allocation/1/",
        "/allocation/1/?result=short",
        "/allocation/1/blocking/",
    ],
    "viewer": [
        "/",
        "/orders/",
        "/orders/MO-0000001/",
        "/orders/returns/",
        "/inventory/",
        "/allocation/1/",
    ],
}


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="oms-smoke-"))
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
        },
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{workdir / 'smoke.sqlite3'}",
        "OMS_BROKER_DIR": str(workdir / "broker"),
    }
    python = str(ROOT / ".venv" / "bin" / "python")
    manage = [python, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, cwd=ROOT)
    seeded = subprocess.run(
        [*manage, "seed_demo"], env=env, check=True, cwd=ROOT, capture_output=True, text=True
    )
    print(seeded.stdout)
    simulator = subprocess.Popen(
        [
            *manage,
            "run_warehouse_simulator",
            "--provision-token",
            "--port",
            str(SIM_PORT),
            "--oms-url",
            BASE,
            "--accept-delay",
            "0.5",
            "--complete-delay",
            "1",
        ],
        env=env,
        cwd=ROOT,
    )
    warehouse = {"OMS_WAREHOUSE_URL": f"http://127.0.0.1:{SIM_PORT}"}
    celery = str(ROOT / ".venv" / "bin" / "celery")
    options = ["--concurrency", "2", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    worker = subprocess.Popen(
        [celery, "-A", "oms", "worker", "-l", "INFO", *options],
        env={**env, **warehouse},
        cwd=ROOT,
    )
    beat_log = workdir / "beat.log"
    with beat_log.open("w") as out:
        beat = subprocess.Popen(
            [celery, "-A", "oms", "beat", "-l", "INFO"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        env={**env, **warehouse},
        cwd=ROOT,
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
        # only those who administer are staff: the others are sent to the admin's sign-in
        for user in ("coordinator", "viewer"):
            opener = sign_in(user, demo_password(seeded.stdout, user))
            response = opener.open(f"{BASE}/admin/", timeout=60)
            refused = urllib.parse.urlparse(response.geturl()).path == "/admin/login/"
            print(f"{'ok ' if refused else 'BAD'} {user:12} kept out of /admin/")
            if not refused:
                failures.append((user, "/admin/ (not staff)", response.status))
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
        failures += release_through_the_simulator(manage, env)
        # beat sends its schedules (the relay, every few seconds) through the same broker
        ok = "Sending due task relay-outbox" in beat_log.read_text()
        print(f"{'ok ' if ok else 'BAD'} beat sends the outbox relay on schedule")
        if not ok:
            failures.append(("beat", "relay-outbox sent", beat_log.read_text()[-2000:]))
        # the probes: ready on SQLite with the embedded broker
        for probe in ("/healthz", "/readyz"):
            status, body = fetch(urllib.request.build_opener(), probe)
            answer = json.loads(body)
            ok = status == 200 and answer["status"] == "ok"
            if probe == "/readyz":
                ok = ok and answer["checks"]["broker"].get("kind") == "embedded"
            print(f"{'ok ' if ok else 'BAD'} {status} {'(anyone)':12} {probe} {body}")
            if not ok:
                failures.append(("anyone", probe, status))
    finally:
        for process in (server, simulator, worker, beat):
            process.terminate()
        for process in (server, simulator, worker, beat):
            process.wait(timeout=30)
    if failures:
        print("smoke test failed:", failures)
        return 1
    print("smoke test passed")
    return 0


def release_through_the_simulator(manage: list[str], env: dict) -> list:
    """Release an allocated order through the API; the simulator takes the release and
    calls back accepted and completed: the order closes."""
    made = subprocess.run(
        [*manage, "create_api_client", "smoke", "--scope", "orders:read", "orders:write"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    token = made.stdout.strip().splitlines()[-1]

    def call(method: str, path: str) -> dict:
        request = urllib.request.Request(
            f"{BASE}/api/v1{path}",
            method=method,
            data=b"{}" if method == "POST" else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    number = call("GET", "/orders/?status=allocated&limit=1")["results"][0]["number"]
    call("POST", f"/orders/{number}/release/")
    for _ in range(60):
        status = call("GET", f"/orders/{number}/")["status"]
        if status == "closed":
            print(f"ok  {number} released and closed through the warehouse simulator")
            return []
        time.sleep(0.5)
    print(f"BAD {number} released but still {status}")
    return [("api", f"/orders/{number}/ closed through the simulator", status)]


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
