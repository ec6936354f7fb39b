"""How long to wait before trying a call to another system again."""

from __future__ import annotations

import random


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the attempt-th failure (1-based): base * 2^(attempt-1),
    capped, of which the second half is random ("equal jitter"), so senders waiting on
    the same system spread out instead of all coming back at the same moment."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
