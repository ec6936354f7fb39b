"""API benchmark: the order list and order detail endpoints against a bare Django floor.

    make bench-api
    make bench-api ARGS="--duration 30s --concurrency 32"
    .venv/bin/python -m tests.benchmarks.api --help

It makes (or reuses) a PostgreSQL database with the given number of orders, starts OMS
under gunicorn with production settings (DEBUG off) and drives four endpoints in turn
with wrk: the API's order list and order detail, and the floor's plain Django views that
return the same rows (tests/benchmarks/floor.py). It prints requests/s, p50 and p99 for
each, the API/floor throughput ratios and whether the targets hold: the API at least half
the floor's throughput, and a p99 of the order detail under 50 ms. It checks nothing
else and fails only when it cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CORES = os.cpu_count() or 1

API_LIST = "/api/v1/orders/?limit=50"
FLOOR_LIST = "/bench/floor/orders/"
API_DETAIL = "/api/v1/orders/{}/"
FLOOR_DETAIL = "/bench/floor/orders/{}/"

MIN_RATIO = 0.5
MAX_DETAIL_P99_MS = 50.0

DETAIL_SCRIPT = """\
local paths = {%s}
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  math.randomseed(seed)
end

function request()
  return wrk.format(nil, paths[math.random(#paths)])
end
"""


class BenchError(Exception):
    pass


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def duration(value: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]*[smh]?", value):
        raise argparse.ArgumentTypeError("a duration such as 10s, 2m or 30")
    return value


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.api",
        description="Benchmark the order list and detail API against a bare Django floor.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--orders", type=int, default=10_000, help="orders in the database")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (wrk -c)")
    parser.add_argument("--threads", type=int, default=4, help="wrk threads (wrk -t)")
    parser.add_argument("--duration", type=duration, default="10s", help="per endpoint (wrk -d)")
    parser.add_argument("--warmup", type=duration, default="2s", help="per endpoint, not counted")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/oms_bench",
        help="PostgreSQL database for the benchmark; made if missing, reloaded if the "
        "number of orders differs",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/15",
        help="cache for throttling, as in production; empty for a per-worker memory cache",
    )
    parser.add_argument(
        "--recreate", action="store_true", help="drop and remake the database first"
    )
    parser.add_argument(
        "--workers", type=int, default=2 * CORES + 1, help="gunicorn workers (2 x cores + 1)"
    )
    parser.add_argument(
        "--worker-class", choices=["sync", "gthread"], default="sync", help="gunicorn worker"
    )
    parser.add_argument(
        "--detail-orders", type=int, default=1000, help="distinct orders the detail runs visit"
    )
    return parser.parse_args(argv)


def server_env(args) -> dict[str, str]:
    """Production settings on plain http at 127.0.0.1, without throttling."""
    return {
        "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "OMS_API_THROTTLE_RATE": "1000000/min",
    }


# --- Load generator ---------------------------------------------------------------------


def find_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    print("The load generator wrk is not installed. Install it with: apt-get install -y wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Running as root: installing it now.", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
        path = shutil.which("wrk")
    if not path:
        raise BenchError("wrk is needed: apt-get install -y wrk")
    return path


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(output: str) -> Result:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    percentiles = {
        p: to_ms(value, unit)
        for p, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    }
    requests = re.search(r"(\d+) requests in", output)
    if not (rps and requests and {"50", "99"} <= percentiles.keys()):
        raise BenchError(f"Could not read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Result(
        float(rps.group(1)), percentiles["50"], percentiles["99"], int(requests.group(1)), errors
    )


def run_wrk(wrk: str, args, url: str, token: str, length: str, script: str | None) -> Result:
    command = [
        wrk,
        "-t",
        str(min(args.threads, args.concurrency)),
        "-c",
        str(args.concurrency),
        "-d",
        length,
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
    ]
    if script:
        command += ["-s", script]
    done = subprocess.run([*command, url], capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"wrk failed:\n{done.stdout}{done.stderr}")
    return parse_wrk(done.stdout)


def detail_script(folder: str, name: str, template: str, numbers: list[str]) -> str:
    """A wrk script that asks for the detail of a random order from `numbers`."""
    path = Path(folder) / f"{name}.lua"
    paths = ",\n".join(f'  "{template.format(number)}"' for number in numbers)
    path.write_text(DETAIL_SCRIPT % f"\n{paths}\n")
    return str(path)


# --- Database ---------------------------------------------------------------------------


def ensure_database(url: str, *, recreate: bool) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    name = params.pop("dbname")
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and recreate:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            print(f"Creating database {name}.", flush=True)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare_database(args) -> tuple[str, list[str]]:
    """The database migrated and loaded; returns a token and the order numbers to visit."""
    import django
    from django.core.management import call_command
    from django.db import connections

    ensure_database(args.database_url, recreate=args.recreate)
    django.setup()

    from oms import audit
    from oms.clients import api_client_create
    from oms.models import ApiClient
    from orders.models import Order
    from tests.benchmarks import data

    call_command("migrate", verbosity=0)
    count = Order.objects.count()
    if count != args.orders:
        if count:
            print(f"The database has {count:,} orders, not {args.orders:,}: remaking it.")
            connections.close_all()
            ensure_database(args.database_url, recreate=True)
            call_command("migrate", verbosity=0)
        print(f"Loading {args.orders:,} orders.", flush=True)
        started = time.monotonic()
        data.load(args.orders)
        print(f"Loaded in {time.monotonic() - started:.1f}s.")
    with audit.acting(data.LOADER):
        ApiClient.objects.filter(name="bench").delete()
    _, token = api_client_create(name="bench", scopes=["orders:read"], actor=data.LOADER)
    numbers = list(
        Order.objects.order_by("?").values_list("number", flat=True)[: args.detail_orders]
    )
    connections.close_all()
    return token, numbers


# --- Server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextmanager
def gunicorn(args, env: dict[str, str]):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        str(BIN / "gunicorn"),
        "oms.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--log-level",
        "warning",
    ]
    if args.worker_class == "gthread":
        command += ["--threads", "4"]
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise BenchError(f"gunicorn did not start:\n{log.read()}")
                try:
                    if get(base_url + FLOOR_LIST, "")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def check_endpoints(base_url: str, token: str, number: str) -> None:
    """Every endpoint answers 200, and the API list and the floor list hold the same rows."""
    pages = {}
    for path in (API_LIST, FLOOR_LIST, API_DETAIL.format(number), FLOOR_DETAIL.format(number)):
        status, body = get(base_url + path, token)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}: {body[:500]!r}")
        pages[path] = json.loads(body)
    api_rows = [row["number"] for row in pages[API_LIST]["results"]]
    floor_rows = [row["number"] for row in pages[FLOOR_LIST]["results"]]
    if api_rows != floor_rows:
        raise BenchError("The API list and the floor list return different orders.")


# --- Report -----------------------------------------------------------------------------


def report(args, results: dict[str, Result]) -> None:
    print()
    print(
        f"{args.orders:,} orders on PostgreSQL; gunicorn {args.workers} {args.worker_class} "
        f"workers on {CORES} cores; wrk {args.concurrency} connections, "
        f"{min(args.threads, args.concurrency)} threads, {args.duration} per endpoint "
        f"after {args.warmup} warm-up"
    )
    print()
    print(f"{'endpoint':<14}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}")
    for name, r in results.items():
        print(
            f"{name:<14}{r.requests_per_second:>10.1f}{r.p50_ms:>10.2f}{r.p99_ms:>10.2f}"
            f"{r.requests:>10}{r.errors:>8}"
        )
    print()
    for kind in ("list", "detail"):
        api, floor = results[f"API {kind}"], results[f"floor {kind}"]
        ratio = api.requests_per_second / floor.requests_per_second
        verdict = "met" if ratio >= MIN_RATIO else "MISSED"
        print(f"{kind:<7}API/floor throughput {ratio:.2f}  (target >= {MIN_RATIO:.2f}: {verdict})")
    p99 = results["API detail"].p99_ms
    verdict = "met" if p99 < MAX_DETAIL_P99_MS else "MISSED"
    print(f"detail API p99 {p99:.2f} ms  (target < {MAX_DETAIL_P99_MS:.0f} ms: {verdict})")
    if any(r.errors for r in results.values()):
        print("Some requests failed or timed out (errors column); read the figures with care.")


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        wrk = find_wrk()
        env = server_env(args)
        os.environ.update(env)
        token, numbers = prepare_database(args)
        with tempfile.TemporaryDirectory() as folder, gunicorn(args, env) as base_url:
            check_endpoints(base_url, token, numbers[0])
            runs = {
                "API list": (API_LIST, None),
                "floor list": (FLOOR_LIST, None),
                "API detail": ("/", detail_script(folder, "api", API_DETAIL, numbers)),
                "floor detail": ("/", detail_script(folder, "floor", FLOOR_DETAIL, numbers)),
            }
            results = {}
            for name, (path, script) in runs.items():
                print(f"{name}: warm-up {args.warmup}, then {args.duration}.", flush=True)
                run_wrk(wrk, args, base_url + path, token, args.warmup, script)
                results[name] = run_wrk(wrk, args, base_url + path, token, args.duration, script)
    except BenchError as exc:
        print(exc, file=sys.stderr)
        return 1
    report(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
