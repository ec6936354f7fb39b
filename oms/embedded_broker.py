"""The embedded broker: Celery messages as files in a local folder, for running OMS with
no broker server (the default without CELERY_BROKER_URL or REDIS_URL, e.g. `make run`).

The web process, the worker and beat share OMS_BROKER_DIR (settings):

- queue/: one file per message waiting for a worker (every process writes and reads
  there);
- processed/: where a worker moves a message to take it, and deletes it once read;
- control/: which queues each exchange feeds.

It is kombu's filesystem transport with two changes, so that several processes can
share the folder safely:

- a message is written under a name no worker looks at and renamed into place once it
  is whole, so a worker never takes a message that is still being written;
- a worker takes a message by renaming it into processed/ (on the same file system,
  so only one worker gets it) and deletes it once read, instead of moving it to the
  system's temporary folder (a copy when that is another file system).

Tasks then go through the same path as with Redis: sent by the web process, run by a
worker, retried later with a countdown, scheduled by beat. A countdown task is held by
the worker that took it; a worker stopped cleanly writes back what it held.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

from kombu import Connection
from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

QUEUE, PROCESSED, CONTROL = "queue", "processed", "control"
SUFFIX = ".msg"


def transport_options(folder: Path) -> dict:
    """The transport options for a broker folder (settings.CELERY_BROKER_TRANSPORT_OPTIONS)."""
    return {
        "data_folder_in": str(folder / QUEUE),
        "data_folder_out": str(folder / QUEUE),
        "processed_folder": str(folder / PROCESSED),
        "control_folder": str(folder / CONTROL),
        "store_processed": True,
        # seconds an idle worker waits before looking for messages again
        "polling_interval": 0.2,
    }


class Channel(filesystem.Channel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for folder in (self.data_folder_in, self.data_folder_out, self.processed_folder):
            os.makedirs(folder, exist_ok=True)
        self.control_folder.mkdir(parents=True, exist_ok=True)

    # _put and _get keep the signatures of kombu's filesystem Channel, which differ from
    # those of its base channel (its stubs ignore the override there too).
    def _put(  # type: ignore[override]
        self, queue: str, payload: dict[str, Any], **kwargs: Any
    ) -> None:
        # The name sorts by time (in nanoseconds, kombu's in milliseconds): messages are
        # taken oldest first.
        name = f"{time.time_ns():020d}_{uuid.uuid4()}.{queue}{SUFFIX}"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.partial")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}") from exc

    def _get(self, queue: str) -> dict[str, Any]:  # type: ignore[override]
        wanted = f"{queue}{SUFFIX}"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.startswith(".") or name.partition(".")[2] != wanted:
                continue
            taken = os.path.join(self.processed_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), taken)
            except OSError:
                continue  # another worker took it first
            try:
                with open(taken, "rb") as file:
                    payload = file.read()
                os.remove(taken)
            except OSError as exc:
                raise ChannelError(f"Cannot read the message {name!r}") from exc
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
    # What this process declared, per broker folder (kombu's is one for the process):
    # declaring a binding again for another folder must write it there.
    states: dict[str, virtual.BrokerState] = {}

    def __init__(self, client: Connection, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        options = client.transport_options or {}  # kombu makes it {} when not given
        folder = os.path.abspath(options.get("control_folder", CONTROL))
        self.state = self.states.setdefault(folder, virtual.BrokerState())


def waiting(folder: Path) -> tuple[int, float | None]:
    """How many messages wait in the broker folder for a worker, and the age in seconds
    of the oldest (None when none waits). Raises OSError when the folder cannot be
    read."""
    now = time.time()
    oldest = None
    count = 0
    with os.scandir(folder / QUEUE) as entries:
        for entry in entries:
            if entry.name.startswith(".") or not entry.name.endswith(SUFFIX):
                continue
            try:
                written = entry.stat().st_mtime
            except FileNotFoundError:
                continue  # taken meanwhile
            count += 1
            oldest = written if oldest is None else min(oldest, written)
    return count, (None if oldest is None else round(max(now - oldest, 0.0), 1))
