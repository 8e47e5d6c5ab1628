"""When to try again: backoff with jitter, Retry-After, and the errors workers understand.

Every worker that retries (the inbox, the poller, the submitter, the delivery worker)
takes its delays from here, and reads a failure the same way:

    RetryLater   transient: try again, not sooner than `delay_s` when it is given
    GiveUp       permanent: trying again cannot help

Any other exception is treated as transient (the worker's own backoff applies), as
arq treats a job that raised anything but `Retry(defer=...)`.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Sequence
from datetime import UTC

DEFAULT_FACTOR = 2.0
DEFAULT_JITTER = 0.2
MAX_RETRY_AFTER_S = 86400.0


class RetryLater(Exception):
    """A transient failure: try again, after at least `delay_s` when it is set."""

    delay_s: float | None = None


class GiveUp(Exception):
    """A permanent failure: the work is finished (failed), never retried."""


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
    """`delay_s` spread by up to +/- `jitter` (a fraction), so retries do not move in lockstep."""
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
    """Backoff for a failed request; the server's Retry-After wins when it asks for longer."""
    delay_s = backoff_s(attempt, min_s, max_s, rng=rng)
    if retry_after_s is not None and retry_after_s > delay_s:
        return retry_after_s
    return delay_s


def delay_for(error: BaseException, backoff: float) -> float:
    """The wait before retrying after `error`: `backoff`, or longer if the error asks."""
    asked = error.delay_s if isinstance(error, RetryLater) else None
    return max(backoff, asked or 0.0)


def after_estimate_s(
    estimated_s: float, *, jitter: float = DEFAULT_JITTER / 2, rng: random.Random | None = None
) -> float:
    """When to look first at a task the provider expects to take `estimated_s`.

    Jitter only upwards: a poll just before the estimate is almost always wasted.
    """
    return estimated_s * (1.0 + (rng or random).uniform(0.0, jitter))


def scheduled_delay_s(
    schedule_s: Sequence[float],
    attempts_made: int,
    *,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before the next attempt of a fixed schedule; None when it is used up.

    `schedule_s[n]` is the wait before attempt n+1 (the first entry is the first
    attempt, usually 0); after `attempts_made` failures the next wait is
    `schedule_s[attempts_made]`, varied by +/-20 %. A server's Retry-After replaces it.
    """
    if attempts_made >= len(schedule_s):
        return None
    if retry_after_s is not None:
        return min(max(retry_after_s, 0.0), MAX_RETRY_AFTER_S)
    base = schedule_s[attempts_made]
    spread = (rng or random).uniform(1 - DEFAULT_JITTER, 1 + DEFAULT_JITTER)
    return max(0.0, base * spread)


def parse_retry_after(value: str | None, now_s: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if unusable.

    `now_s` (epoch seconds) is the moment an HTTP date is measured from (default: now).
    The answer is capped at a day, so a hostile server cannot park a retry forever.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # an HTTP date is GMT; a naive one is read as UTC
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp() - (time.time() if now_s is None else now_s)
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
