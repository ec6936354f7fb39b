"""Benchmark phases run each in a fresh process, so that the peak memory a phase
reports is its own: the parent runs `python -m MODULE NAME ARG` with phase_env() and
reads the one JSON line the phase prints with print_phase()."""

from __future__ import annotations

import json
import os
import resource
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.api import BenchError

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Phase:
    seconds: float
    peak_mib: float
    result: object  # what the phase returned


def phase_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production settings on the benchmark database; no broker, so Celery runs tasks in
    process; no ops mail; `extra` on top. Commits do not start the outbox relay: with a
    broker that only queues a task, but in process it would relay every event inside
    the phase being measured."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"CELERY_BROKER_URL", "REDIS_URL", "OMS_OPS_EMAILS"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "LOG_LEVEL": "WARNING",
            "OMS_RELAY_KICK": "false",
            **extra,
        }
    )
    return env


def run_phase(module: str, name: str, arg: str, env: dict[str, str]) -> Phase:
    """Run phase `name` of `module` in a fresh process, saying so before and after."""
    print(f"{name}: running.", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", module, name, arg],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(f"The {name} phase failed:\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    phase = Phase(printed["seconds"], printed["peak_kib"] / 1024, printed["result"])
    print(f"{name}: {phase.seconds:.1f}s, peak {phase.peak_mib:.0f} MiB.", flush=True)
    return phase


def start_phase(module: str, name: str, arg: str, env: dict[str, str]) -> subprocess.Popen:
    """Start phase `name` of `module` in a fresh process that runs alongside the caller's
    next phases; finish_phase() waits for it and reads what it printed."""
    print(f"{name}: started.", flush=True)
    return subprocess.Popen(
        [sys.executable, "-m", module, name, arg],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_phase(process: subprocess.Popen, name: str, timeout: float = 900) -> Phase:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise BenchError(f"The {name} phase failed:\n{stdout[-4000:]}{stderr[-4000:]}")
    printed = json.loads(stdout.strip().splitlines()[-1])
    phase = Phase(printed["seconds"], printed["peak_kib"] / 1024, printed["result"])
    print(f"{name}: {phase.seconds:.1f}s, peak {phase.peak_mib:.0f} MiB.", flush=True)
    return phase


def print_phase(call: Callable[[], object]) -> None:
    """In the phase's process: run it and print its wall time (Django's start-up not
    counted), the process's peak resident memory (ru_maxrss, start-up included) and
    what it returned, as one JSON line."""
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_kib": peak_kib, "result": result}))


def verdict(ok: bool) -> str:
    """How a report marks a target."""
    return "met" if ok else "MISSED"
