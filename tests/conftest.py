import os

import pytest
from django.conf import settings
from django.test import Client

from oms import audit
from oms.actors import Actor
from oms.clients import api_client_create
from oms.scopes import Scope
from tests import factories
from tests.apiclient import ApiCaller

CI = os.environ.get("CI", "").lower() == "true"


def _redis_available() -> bool:
    url = settings.OMS_TEST_BROKER_URL
    if not url.startswith("redis"):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_sessionstart(session):
    """Under CI the suite runs against the real PostgreSQL and Redis, or fails."""
    if not CI:
        return
    missing = []
    if not _on_postgres():
        missing.append("PostgreSQL (set DATABASE_URL=postgres://...)")
    if not _redis_available():
        missing.append("Redis (set REDIS_URL=redis://... and start redis-server)")
    if missing:
        pytest.exit("CI=true but these are missing: " + "; ".join(missing), returncode=3)


def pytest_collection_modifyitems(config, items):
    needs = {"postgres": _on_postgres(), "redis": None}
    for item in items:
        for marker in ("postgres", "redis"):
            if marker not in item.keywords:
                continue
            if needs[marker] is None:
                needs[marker] = _redis_available()
            if not needs[marker]:
                item.add_marker(pytest.mark.skip(reason=f"needs {marker}; CI runs it"))


@pytest.fixture
def system_actor():
    return Actor.system("tests")


@pytest.fixture
def acting_system(system_actor):
    """Run the test body as the system actor (for writes made directly in tests)."""
    with audit.acting(system_actor):
        yield system_actor


@pytest.fixture
def coordinator(db):
    return factories.UserFactory(role="coordinator")


@pytest.fixture
def viewer(db):
    return factories.UserFactory(role="viewer")


@pytest.fixture
def coordinator_client(client, coordinator):
    """The test client, signed in as a coordinator."""
    client.force_login(coordinator)
    return client


@pytest.fixture
def viewer_client(viewer):
    """Another test client, signed in as a viewer."""
    http = Client()
    http.force_login(viewer)
    return http


@pytest.fixture
def coordinator_actor(coordinator):
    return Actor.person(coordinator)


@pytest.fixture
def warehouse_actor():
    """The warehouse system, acting with the permissions of its integration."""
    return Actor.client(
        "warehouse-system",
        permissions=["orders.complete_order", "orders.return_order", "orders.reject_order"],
    )


# --- API callers --------------------------------------------------------------------------


@pytest.fixture
def make_caller(db):
    counter = iter(range(1000))

    def make(*scopes, name=None, throttle_rate=""):
        client, token = api_client_create(
            name=name or f"client-{next(counter)}",
            scopes=scopes or list(Scope.values),
            actor=Actor.system("tests"),
        )
        if throttle_rate:
            type(client).objects.filter(pk=client.pk).update(throttle_rate=throttle_rate)
        return ApiCaller(token, client)

    return make


@pytest.fixture
def api(make_caller):
    """A client holding every scope."""
    return make_caller()


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# --- Outages ----------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of the test's own, without persistence, on a port of 6390-6399 (never
    the shared 6379): stop() is an outage, start() brings it back empty, as a Redis
    restarted without its data."""

    PORTS = range(6390, 6400)

    def __init__(self):
        import socket

        for port in self.PORTS:
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
            self.port = port
            break
        else:
            raise RuntimeError("no free port in 6390-6399 for a private Redis")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> "PrivateRedis":
        import subprocess
        import time

        import redis

        self.proc = subprocess.Popen(
            [
                "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def private_redis():
    """A Redis the test may stop and start (see PrivateRedis); stopped at the end."""
    import shutil

    if shutil.which("redis-server") is None:
        if CI:
            pytest.fail("redis-server is not installed")
        pytest.skip("needs redis-server")
    server = PrivateRedis().start()
    yield server
    server.stop()


@pytest.fixture
def redis_cache(settings, private_redis):
    """The default cache on the private Redis, as settings make it with REDIS_URL."""
    settings.CACHES = {
        "default": {
            "BACKEND": "oms.cache.FailOpenRedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.OMS_REDIS_RETRY_SECONDS = 0
    from oms.cache import FailOpenRedisCache

    FailOpenRedisCache.outage.succeeded()
    yield private_redis
    FailOpenRedisCache.outage.succeeded()


@pytest.fixture
def private_broker(settings, private_redis):
    """The Celery app sends to the private Redis (tasks run in a worker the test starts,
    not in-process); a failed send does not stop the next from trying."""
    from oms import broker, celery_app

    settings.OMS_REDIS_RETRY_SECONDS = 0
    settings.OMS_EMBEDDED_BROKER = False
    previous = celery_app.conf.broker_url, celery_app.conf.broker_transport
    use_broker(private_redis.url, eager=False)
    broker.outage.succeeded()
    yield private_redis
    use_broker(previous[0], eager=True, transport=previous[1])
    broker.outage.succeeded()


def use_broker(url: str, *, eager: bool, transport: str | None = None) -> None:
    from oms import celery_app

    # forget the pools of the broker used before (kombu keeps them by URL)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url
    # the embedded broker names its transport; a Redis URL names its own
    celery_app.conf.broker_transport = transport
    celery_app.conf.task_always_eager = eager


class DatabaseCut:
    """The database taken away from this process: its connection is terminated on the
    server (pg_terminate_backend) and new connections go to a port nobody listens on, as
    when the server is down. restore() brings it back."""

    def __init__(self, connection):
        self.connection = connection
        self.port = connection.settings_dict["PORT"]

    def cut(self) -> None:
        import socket

        import psycopg

        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        params = self.connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = sock.getsockname()[1]
        self.connection.settings_dict["PORT"] = str(closed)

    def restore(self) -> None:
        import contextlib

        self.connection.settings_dict["PORT"] = self.port
        with contextlib.suppress(Exception):
            self.connection.close()


@pytest.fixture
def cut_database_connection(transactional_db):
    """Cut this process off its PostgreSQL (see DatabaseCut); restored at the end."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs postgres; CI runs it")
    cut = DatabaseCut(connection)
    yield cut
    cut.restore()
