"""How the simulated warehouse behaves: delays and the rates of each kind of trouble."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

RATES = (
    "reject_rate",
    "fail_rate",
    "timeout_rate",
    "short_rate",
    "return_rate",
    "duplicate_rate",
    "silent_rate",
)
SECONDS = ("accept_delay", "complete_delay", "return_delay", "latency", "timeout_seconds")


@dataclass(frozen=True)
class Behaviour:
    accept_delay: float = 1.0  # seconds from a new release to "accepted"
    complete_delay: float = 3.0  # ... to "completed"
    return_delay: float = 5.0  # seconds after "completed" to a random return
    latency: float = 0.0  # seconds before answering a release request
    reject_rate: float = 0.0  # share of new releases rejected
    fail_rate: float = 0.0  # share of release requests answered with fail_status
    fail_status: int = 503
    timeout_rate: float = 0.0  # share taken, then answered after timeout_seconds
    timeout_seconds: float = 30.0
    short_rate: float = 0.0  # share of releases shipped one unit short
    return_rate: float = 0.0  # share of completed releases with a return of one unit
    duplicate_rate: float = 0.0  # share of callbacks sent twice
    silent_rate: float = 0.0  # share of new releases taken, then not answered until asked again
    out_of_order: bool = False  # send "completed" before "accepted"

    def __post_init__(self):
        problems = [name for name in RATES if not 0 <= getattr(self, name) <= 1]
        problems += [name for name in SECONDS if getattr(self, name) < 0]
        if self.fail_rate + self.timeout_rate > 1:
            problems.append("fail_rate + timeout_rate")
        if not (self.fail_status == 429 or 500 <= self.fail_status <= 599):
            problems.append("fail_status (429 or 5xx)")
        if problems:
            raise ValueError(f"Out of range: {', '.join(problems)}.")

    def updated(self, changes: dict) -> Behaviour:
        """A copy with the changes (from JSON) applied; ValueError for a bad one."""
        fields = {f.name: f.type for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - set(fields))
        if unknown:
            raise ValueError(f"Unknown settings: {', '.join(unknown)}.")
        typed = {}
        for name, value in changes.items():
            kind = {"float": float, "int": int, "bool": bool}[fields[name]]
            if kind is bool and not isinstance(value, bool):
                raise ValueError(f"{name} is true or false.")
            if kind is not bool and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ValueError(f"{name} is a number.")
            typed[name] = kind(value)
        return dataclasses.replace(self, **typed)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
