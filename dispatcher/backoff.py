"""Jittered exponential backoff: how long to wait before the next poll or retry."""

from __future__ import annotations

import random

DEFAULT_FACTOR = 2.0
DEFAULT_JITTER = 0.2


def exponential_s(
    attempt: int, min_s: float, max_s: float, *, factor: float = DEFAULT_FACTOR
) -> float:
    """`min_s * factor**attempt`, capped at `max_s` (attempt 0 gives `min_s`)."""
    if attempt <= 0:
        return min(min_s, max_s)
    # cap the exponent so huge attempt counts cannot overflow a float
    exponent = min(attempt, 64)
    return min(max_s, min_s * factor**exponent)


def jittered_s(
    delay_s: float, *, jitter: float = DEFAULT_JITTER, rng: random.Random | None = None
) -> float:
    """`delay_s` spread by up to +/- `jitter` (a fraction), so tasks do not move in lockstep."""
    spread = (rng or random).uniform(-jitter, jitter)
    return max(0.0, delay_s * (1.0 + spread))


def backoff_s(
    attempt: int,
    min_s: float,
    max_s: float,
    *,
    jitter: float = DEFAULT_JITTER,
    rng: random.Random | None = None,
) -> float:
    """The jittered delay before attempt `attempt + 1`, always within [min_s, max_s]."""
    delay_s = jittered_s(exponential_s(attempt, min_s, max_s), jitter=jitter, rng=rng)
    return min(max_s, max(min_s, delay_s))


def retry_delay_s(
    attempt: int,
    min_s: float,
    max_s: float,
    *,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Backoff for a failed request; a provider's Retry-After wins when it asks for longer."""
    delay_s = backoff_s(attempt, min_s, max_s, rng=rng)
    if retry_after_s is not None and retry_after_s > delay_s:
        return retry_after_s
    return delay_s


def after_estimate_s(
    estimated_s: float, *, jitter: float = DEFAULT_JITTER / 2, rng: random.Random | None = None
) -> float:
    """When to look first at a task the provider expects to take `estimated_s`.

    Jitter only upwards: a poll just before the estimate is almost always wasted.
    """
    return estimated_s * (1.0 + (rng or random).uniform(0.0, jitter))
