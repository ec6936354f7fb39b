"""Real processes for the fault tests: the OMS web server (gunicorn), Celery workers
(with beat, so the relay runs as in production) and the warehouse simulator, all on
the test database and the test Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], object], *, timeout: float, what: str, every: float = 0.2):
    """Poll until check() is truthy; its value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def database_url() -> str:
    """The test database (pytest-django's test_<name>), for the child processes."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Service:
    """A child process with its own process group (to kill it whole) and a log file."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name = name
        self.args = args
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Service:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL) -> None:
        """Signal the whole process group (a worker and its pool processes)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if not self.running:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass

    def tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Stack:
    """The processes of one fault test; stopped (and their logs shown) at the end."""

    def __init__(self, log_dir: Path, **env):
        self.log_dir = log_dir
        self.web_port = free_port()
        self.sim_port = free_port()
        self.services: list[Service] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "DEBUG": "true",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.OMS_TEST_BROKER_URL,
            "CELERY_BROKER_URL": settings.OMS_TEST_BROKER_URL,
            "LOG_FORMAT": "text",
            "PYTHONUNBUFFERED": "1",
            "OMS_RELAY_INTERVAL_SECONDS": "1",
            "OMS_WAREHOUSE_URL": f"http://127.0.0.1:{self.sim_port}",
            **{key: str(value) for key, value in env.items()},
        }

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    def _start(self, name: str, args: list[str], **env) -> Service:
        service = Service(name, args, {**self.env, **env}, self.log_dir).start()
        self.services.append(service)
        return service

    def web(self) -> Service:
        service = self._start(
            "web",
            [
                str(BIN / "gunicorn"),
                "oms.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "120",
            ],
        )
        self._wait_up(service, self._web_up)
        return service

    def _wait_up(self, service: Service, up: Callable[[], bool]) -> None:
        def ready() -> bool:
            if not service.running:
                raise AssertionError(f"{service.name} stopped:\n{service.tail()}")
            return up()

        wait_for(ready, timeout=90, what=service.name)

    def _web_up(self) -> bool:
        try:
            return requests.get(f"{self.web_url}/login/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def worker(self, name: str = "worker", *, concurrency: int = 4, **env) -> Service:
        return self._start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "oms",
                "worker",
                "-B",
                "--schedule",
                str(self.log_dir / f"{name}-beat-schedule"),
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"{name}-{self.web_port}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            **env,
        )

    def simulator(self, token: str, *args: str) -> Service:
        service = self._start(
            "simulator",
            [
                str(BIN / "python"),
                "manage.py",
                "run_warehouse_simulator",
                "--port",
                str(self.sim_port),
                "--oms-url",
                self.web_url,
                "--token",
                token,
                "--seed",
                "7",
                *args,
            ],
        )
        self._wait_up(service, self._sim_up)
        return service

    def _sim_up(self) -> bool:
        try:
            return requests.get(f"{self.sim_url}/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def control(self, **behaviour) -> dict:
        return requests.post(f"{self.sim_url}/_control", json=behaviour, timeout=5).json()

    def sim_status(self) -> dict:
        return requests.get(f"{self.sim_url}/_control", timeout=5).json()

    def sim_release(self, release_id) -> dict | None:
        response = requests.get(f"{self.sim_url}/releases/{release_id}", timeout=5)
        return response.json() if response.status_code == 200 else None

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def logs(self) -> str:
        return "\n".join(
            f"----- {service.name} (last lines) -----\n{service.tail()}"
            for service in self.services
        )
