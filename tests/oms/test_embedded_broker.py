"""The embedded default (no DATABASE_URL, no broker URL) works as production does: a
task sent by one process is run by a Celery worker process through the embedded broker
(message files), a task's countdown is kept, and beat's schedules fire. Worker and beat
run as real processes on a SQLite file and a broker folder of the test's own."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError

from oms import embedded_broker

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))

# Sent from a process of its own, as the web server sends: an old idempotency key and a
# task (with a countdown) that prunes it; an outbox event that only beat's relay can
# deliver (the relay is not started after the commit here). It waits for both effects.
SENDER = textwrap.dedent(
    """
    import datetime, time
    import django
    django.setup()
    from django.db import transaction
    from django.utils import timezone
    from oms import outbox
    from oms.models import IdempotencyKey, OutboxEvent
    from oms.tasks import prune_idempotency_keys

    IdempotencyKey.objects.create(owner="client:1", key="old", fingerprint="-")
    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(days=3))
    sent = prune_idempotency_keys.apply_async(countdown=2)
    time.sleep(0.5)
    print("waiting after send:", IdempotencyKey.objects.exists())
    with transaction.atomic():
        event = outbox.publish(
            event_type="check.made", aggregate_type="check", aggregate_id=1, payload={}
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pruned = not IdempotencyKey.objects.exists()
        relayed = OutboxEvent.objects.filter(pk=event.pk, delivered_at__isnull=False).exists()
        if pruned and relayed:
            break
        time.sleep(0.3)
    print("task:", sent.id)
    print("pruned:", pruned)
    print("relayed:", relayed)
    """
)


@pytest.fixture
def embedded_env(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="oms.settings",
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'oms.sqlite3'}",
        OMS_BROKER_DIR=str(tmp_path / "broker"),
        OMS_RELAY_INTERVAL_SECONDS="1",
        OMS_RELAY_KICK="false",
        LOG_FORMAT="text",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return env


def test_embedded_default_runs_sent_tasks_in_a_worker_and_fires_beat_schedules(
    embedded_env, tmp_path
):
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    processes = []
    try:
        worker = [CELERY, "-A", "oms", "worker", "-l", "INFO", "--concurrency", "1"]
        worker += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        beat = [CELERY, "-A", "oms", "beat", "-l", "INFO"]
        for command, log in ((worker, worker_log), (beat, beat_log)):
            with log.open("w") as out:
                processes.append(
                    subprocess.Popen(
                        command, cwd=ROOT, env=embedded_env, stdout=out, stderr=subprocess.STDOUT
                    )
                )
        sender = subprocess.run(
            [sys.executable, "-c", SENDER],
            cwd=ROOT,
            env=embedded_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)

    logs = f"{sender.stderr}\nworker:\n{worker_log.read_text()}\nbeat:\n{beat_log.read_text()}"
    lines = dict(line.split(": ", 1) for line in sender.stdout.splitlines() if ": " in line)
    # sent, not run in the sender, and not before its countdown
    assert lines.get("waiting after send") == "True", logs
    assert lines.get("pruned") == "True", logs
    assert f"Task oms.tasks.prune_idempotency_keys[{lines['task']}] succeeded" in logs
    # beat sent the relay, the worker ran it: the event was delivered
    assert lines.get("relayed") == "True", logs
    assert "Sending due task relay-outbox" in logs


@pytest.fixture
def queue(tmp_path):
    options = embedded_broker.transport_options(tmp_path)
    with Connection(
        "filesystem://localhost/", transport=embedded_broker.Transport, transport_options=options
    ) as connection:
        queue = connection.SimpleQueue("checks")
        yield queue
        queue.close()


def test_embedded_broker_hands_out_each_message_once_oldest_first(queue, tmp_path):
    queue.put({"n": 1})
    queue.put({"n": 2})
    assert embedded_broker.waiting(tmp_path)[0] == 2

    first, second = queue.get(timeout=1), queue.get(timeout=1)
    first.ack()
    second.ack()

    assert (first.payload, second.payload) == ({"n": 1}, {"n": 2})
    with pytest.raises(queue.Empty):
        queue.get(timeout=0.1)
    assert embedded_broker.waiting(tmp_path) == (0, None)
    assert not list((tmp_path / "processed").iterdir())  # read, then removed


def test_a_message_that_could_not_be_written_whole_is_never_handed_out(
    queue, tmp_path, monkeypatch
):
    def disk_full(data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(embedded_broker, "str_to_bytes", disk_full)
    with pytest.raises(ChannelError):
        queue.put({"n": 1})
    monkeypatch.undo()

    assert list((tmp_path / "queue").iterdir()) == []
    with pytest.raises(queue.Empty):
        queue.get(timeout=0.1)
    queue.put({"n": 2})
    assert queue.get(timeout=1).payload == {"n": 2}
