"""The simulated warehouse: the releases it holds and what it decides to do with them."""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from warehouse.integration.simulator.behaviour import Behaviour
from warehouse.integration.simulator.callbacks import Callback, CallbackSender

logger = logging.getLogger("oms.simulator")

RELEASES_PATH = "/api/v1/warehouse/releases"
OUT_OF_ORDER_GAP_SECONDS = 1.0
# A release only moves forward, whatever order its callbacks are answered in.
PROGRESS = {"received": 0, "accepted": 1, "rejected": 2, "completed": 2, "returned": 3}
# The callbacks that answer a release request: sent again when OMS asks again.
ANSWERS = ("accepted", "rejected", "completed")
ANSWER_AGAIN_GAP_SECONDS = 0.2


class BadRequest(ValueError):
    pass


@dataclass
class WmsRelease:
    release_id: str
    order: str
    warehouse: str
    lines: list[dict]
    correlation_id: str
    received: int = 1  # requests received for it, repeats included
    status: str = "received"
    shipped: dict[str, int] = field(default_factory=dict)
    returns: int = 0
    callbacks: Counter = field(default_factory=Counter)
    silent: bool = False  # taken, and not answered until asked again
    # The answers planned, each with when (time.monotonic()) it was due to go.
    answers: list[tuple[float, Callback]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "release_id": self.release_id,
            "order": self.order,
            "warehouse": self.warehouse,
            "lines": self.lines,
            "received": self.received,
            "status": self.status,
            "shipped": self.shipped,
            "returns": self.returns,
            "callbacks": dict(self.callbacks),
            "silent": self.silent,
        }


class Simulator:
    def __init__(self, behaviour: Behaviour, sender: CallbackSender, *, seed: int | None = None):
        self.behaviour = behaviour
        self.sender = sender
        sender.on_result = self._on_result
        self.releases: dict[str, WmsRelease] = {}
        self.stats: Counter = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    # --- Release requests ---------------------------------------------------------------

    def receive_release(self, body, key: str | None, correlation_id: str):
        """Take a release request. Returns (status, answer, seconds to wait before
        answering)."""
        release_id, lines = _check_release(body, key)
        with self._lock:
            self.stats["requests"] += 1
            b = self.behaviour
            roll = self._rng.random()
            if roll < b.fail_rate:
                self.stats["injected_failures"] += 1
                return b.fail_status, {"detail": "Injected failure."}, b.latency
            timed_out = roll < b.fail_rate + b.timeout_rate
            if timed_out:
                self.stats["injected_timeouts"] += 1
            delay = b.timeout_seconds if timed_out else b.latency
            known = self.releases.get(release_id)
            if known is not None:
                known.received += 1
                self.stats["repeats"] += 1
                self._answer_again(known)
                answer = {"release_id": release_id, "status": known.status, "repeat": True}
                return 200, answer, delay
            release = WmsRelease(
                release_id=release_id,
                order=str(body.get("order", "")),
                warehouse=str(body.get("warehouse", "")),
                lines=lines,
                correlation_id=correlation_id,
            )
            self.releases[release_id] = release
            self.stats["releases"] += 1
            if b.silent_rate and self._rng.random() < b.silent_rate:
                release.silent = True
                self.stats["silent"] += 1
            else:
                self._plan(release)
        logger.info("release %s for %s taken", release_id, release.order)
        return 202, {"release_id": release_id, "status": "received"}, delay

    def _answer_again(self, release: WmsRelease) -> None:
        """A repeated request asks for the answer again: a silent release is answered
        now; otherwise the answers already due are sent again, with their event ids (OMS
        applies each once); answers still to come go when due."""
        if release.silent:
            release.silent = False
            self.stats["silent_asked"] += 1
            self._plan(release)
            return
        now = time.monotonic()
        due = [callback for at, callback in release.answers if at <= now]
        for n, callback in enumerate(due):
            self.stats["answers_sent_again"] += 1
            again = Callback(**{**callback.__dict__, "attempts": 0, "conflicts": 0})
            self.sender.schedule(again, n * ANSWER_AGAIN_GAP_SECONDS)

    def _plan(self, release: WmsRelease) -> None:
        b, rng = self.behaviour, self._rng
        if rng.random() < b.reject_rate:
            item = release.lines[0]["item"]
            reason = f"{item}: bin empty at {release.warehouse or 'the warehouse'}."
            self._call_back(release, "rejected", {"reason": reason}, b.accept_delay)
            return
        shipped = {line["item"]: line["quantity"] for line in release.lines}
        if rng.random() < b.short_rate:
            first = release.lines[0]["item"]
            shipped[first] = max(shipped[first] - 1, 0)
        accept_at, complete_at = b.accept_delay, max(b.complete_delay, b.accept_delay)
        if b.out_of_order:  # well apart, so that they arrive in this order
            accept_at, complete_at = complete_at + OUT_OF_ORDER_GAP_SECONDS, accept_at
        self._call_back(release, "accepted", {}, accept_at)
        completed = {"lines": [{"item": item, "shipped": n} for item, n in shipped.items()]}
        self._call_back(release, "completed", completed, complete_at)
        if rng.random() < b.return_rate and any(shipped.values()):
            item = next(item for item, n in shipped.items() if n)
            line = {"item": item, "quantity": 1, "condition": "good", "reason": "Not needed"}
            self._call_back(release, "returns", {"lines": [line]}, complete_at + b.return_delay)

    def _call_back(self, release: WmsRelease, kind: str, body: dict, delay: float) -> str:
        if kind == "returns":
            release.returns += 1
            event_id = f"{release.release_id}:return:{release.returns}"
        else:
            event_id = f"{release.release_id}:{kind}"
        callback = Callback(
            kind=kind,
            path=f"{RELEASES_PATH}/{release.release_id}/{kind}/",
            body={"event_id": event_id, **body},
            correlation_id=release.correlation_id,
            release_id=release.release_id,
        )
        self.sender.schedule(callback, delay)
        if kind in ANSWERS:
            release.answers.append((time.monotonic() + delay, callback))
        if self._rng.random() < self.behaviour.duplicate_rate:
            self.stats["duplicates_sent"] += 1
            self.sender.schedule(Callback(**{**callback.__dict__, "attempts": 0}), delay + 0.05)
        return event_id

    def _on_result(self, callback: Callback, status: int, body: dict) -> None:
        with self._lock:
            outcome = "delivered" if 200 <= status < 300 else "refused"
            self.stats[f"callbacks_{outcome}"] += 1
            release = self.releases.get(callback.release_id)
            if release is None or outcome != "delivered":
                return
            release.callbacks[callback.kind] += 1
            reached = {"returns": "returned"}.get(callback.kind, callback.kind)
            if PROGRESS.get(reached, 0) > PROGRESS[release.status]:
                release.status = reached
            if callback.kind == "completed":
                release.shipped = {line["item"]: line["shipped"] for line in callback.body["lines"]}

    # --- Control ------------------------------------------------------------------------

    def configure(self, changes) -> Behaviour:
        if not isinstance(changes, dict):
            raise BadRequest("Send a JSON object of settings.")
        with self._lock:
            self.behaviour = self.behaviour.updated(changes)
            logger.info("behaviour now %s", self.behaviour)
            return self.behaviour

    def send_return(self, release_id: str, body) -> str:
        """Send a return for a completed release now (by default one unit, good)."""
        with self._lock:
            release = self.releases.get(release_id)
            if release is None:
                raise KeyError(release_id)
            if release.status not in ("completed", "returned"):
                raise BadRequest(f"Release {release_id} is {release.status}, not completed.")
            lines = (body or {}).get("lines") or [
                {"item": item, "quantity": 1, "condition": "good", "reason": "Not needed"}
                for item, n in list(release.shipped.items())[:1]
                if n
            ]
            if not lines:
                raise BadRequest("Nothing was shipped; say which lines come back.")
            return self._call_back(release, "returns", {"lines": lines}, 0)

    def send_stock(self, body) -> str:
        """A stock receipt or adjustment, now."""
        if not isinstance(body, dict) or body.get("kind") not in ("receipt", "adjustment"):
            raise BadRequest(
                'Send {"kind": "receipt" or "adjustment", "warehouse", "item", '
                '"quantity", "reason"}.'
            )
        path = "stock-receipts" if body["kind"] == "receipt" else "stock-adjustments"
        event_id = f"wms-stock-{uuid.uuid4()}"
        fields = {k: body.get(k) for k in ("warehouse", "item", "quantity", "reason")}
        callback = Callback(
            kind=path, path=f"/api/v1/warehouse/{path}/", body={"event_id": event_id, **fields}
        )
        self.sender.schedule(callback, 0)
        return event_id

    def status(self) -> dict:
        with self._lock:
            by_status = Counter(release.status for release in self.releases.values())
            return {
                "behaviour": self.behaviour.as_dict(),
                "stats": dict(self.stats),
                "releases": dict(by_status),
                "callbacks_pending": self.sender.pending(),
            }

    def release(self, release_id: str) -> dict | None:
        with self._lock:
            release = self.releases.get(release_id)
            return release.as_dict() if release else None


def _check_release(body, key: str | None) -> tuple[str, list[dict]]:
    if not isinstance(body, dict):
        raise BadRequest("The body is a JSON object.")
    try:
        release_id = str(uuid.UUID(str(body.get("release_id"))))
    except ValueError:
        raise BadRequest("release_id is a UUID.") from None
    if key is not None and key != release_id:
        raise BadRequest("Idempotency-Key must be the release id.")
    lines = body.get("lines")
    if (
        not isinstance(lines, list)
        or not lines
        or not all(
            isinstance(line, dict)
            and isinstance(line.get("item"), str)
            and isinstance(line.get("quantity"), int)
            and line["quantity"] > 0
            for line in lines
        )
    ):
        raise BadRequest('lines is a list of {"item": code, "quantity": n > 0}.')
    return release_id, [{"item": line["item"], "quantity": line["quantity"]} for line in lines]
