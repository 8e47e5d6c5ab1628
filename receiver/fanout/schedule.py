"""When to try a failed delivery again: the configured schedule, with jitter."""

from __future__ import annotations

import random
from collections.abc import Sequence

JITTER = 0.2
MAX_RETRY_AFTER_S = 86400.0


def next_delay_s(
    schedule_s: Sequence[float],
    attempts_made: int,
    *,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before the next attempt, or None when the schedule is used up.

    `schedule_s[n]` is the wait before attempt n+1 (the first entry is the first
    attempt, usually 0); after `attempts_made` failures the next wait is
    `schedule_s[attempts_made]`, varied by +/-20 %. A server's Retry-After replaces it.
    """
    if attempts_made >= len(schedule_s):
        return None
    if retry_after_s is not None:
        return min(max(retry_after_s, 0.0), MAX_RETRY_AFTER_S)
    base = schedule_s[attempts_made]
    spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return max(0.0, base * spread)
