"""Settings come from the environment; production mode passes Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    clean["DJANGO_SETTINGS_MODULE"] = "oms.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "p7@Kq2!vZ9#rT4$wL8^mN1&bX6*cH3(jF5)sD0_gY2+eU7=aR9-oI4",
    "ALLOWED_HOSTS": "oms.example.com",
}


def test_check_deploy_is_clean_in_production_mode():
    result = _run(["check", "--deploy", "--fail-level", "DEBUG"], **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_required_when_debug_is_off():
    result = _run(["check"], DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    ("env", "eager"),
    [
        ({"CELERY_BROKER_URL": "", "REDIS_URL": ""}, "True"),
        ({"REDIS_URL": "redis://h:6379/0"}, "False"),
    ],
)
def test_without_a_broker_tasks_run_in_process(env, eager):
    result = _run(
        [
            "shell",
            "-c",
            "from django.conf import settings; print(settings.CELERY_TASK_ALWAYS_EAGER)",
        ],
        DEBUG="true",
        **env,
    )

    assert result.stdout.strip().splitlines()[-1] == eager, result.stderr


def test_without_database_url_oms_uses_a_sqlite_file():
    result = _run(
        [
            "shell",
            "-c",
            "from django.db import connection as c; print(c.vendor, c.settings_dict['NAME'])",
        ],
        DEBUG="true",
        DATABASE_URL="",
    )

    vendor, name = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert vendor == "sqlite"
    assert Path(name).parent == ROOT
