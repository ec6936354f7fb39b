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
    ("env", "expected"),
    [
        (
            {"CELERY_BROKER_URL": "", "REDIS_URL": "", "OMS_BROKER_DIR": "/srv/oms-broker"},
            "filesystem://localhost/ oms.embedded_broker:Transport False "
            "/srv/oms-broker/queue /srv/oms-broker/beat-schedule",
        ),
        ({"REDIS_URL": "redis://h:6379/0"}, "redis://h:6379/0 None False - -"),
    ],
)
def test_without_a_broker_url_tasks_are_sent_to_the_embedded_broker(env, expected, tmp_path):
    if "OMS_BROKER_DIR" in env:
        env["OMS_BROKER_DIR"] = str(tmp_path / "broker")
        expected = expected.replace("/srv/oms-broker", str(tmp_path / "broker"))
    result = _run(
        [
            "shell",
            "-c",
            "from django.conf import settings as s; print(s.CELERY_BROKER_URL, "
            "getattr(s, 'CELERY_BROKER_TRANSPORT', None), s.CELERY_TASK_ALWAYS_EAGER, "
            "s.CELERY_BROKER_TRANSPORT_OPTIONS.get('data_folder_in', '-'), "
            "getattr(s, 'CELERY_BEAT_SCHEDULE_FILENAME', '-'))",
        ],
        DEBUG="true",
        **env,
    )

    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr


def test_embedded_sqlite_lets_a_worker_and_the_server_write_at_once(tmp_path):
    result = _run(
        [
            "shell",
            "-c",
            "from django.db import connection as c; cur = c.cursor(); "
            "print(cur.execute('PRAGMA journal_mode').fetchone()[0], "
            "cur.execute('PRAGMA busy_timeout').fetchone()[0], "
            "c.settings_dict['OPTIONS']['transaction_mode'])",
        ],
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'oms.sqlite3'}",
    )

    assert result.stdout.strip().splitlines()[-1] == "wal 20000 IMMEDIATE", result.stderr


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
