"""Backoff: exponential growth within bounds, jitter that spreads, Retry-After honoured."""

from __future__ import annotations

import random

from receiver.retry import after_estimate_s, backoff_s, exponential_s, retry_delay_s


def test_exponential_doubles_from_min_and_stops_at_max() -> None:
    assert [exponential_s(n, 2.0, 60.0) for n in range(7)] == [2, 4, 8, 16, 32, 60, 60]
    assert exponential_s(10_000, 2.0, 60.0) == 60.0  # no overflow on absurd counts


def test_backoff_stays_within_bounds_and_is_spread() -> None:
    rng = random.Random(7)
    for attempt in range(12):
        delays = [backoff_s(attempt, 2.0, 60.0, rng=rng) for _ in range(200)]
        assert all(2.0 <= d <= 60.0 for d in delays)
    middle = [backoff_s(3, 2.0, 60.0, rng=rng) for _ in range(200)]
    assert 16 * 0.8 <= min(middle) < max(middle) <= 16 * 1.2
    assert max(middle) - min(middle) > 3  # jitter: tasks do not poll in lockstep


def test_retry_after_wins_only_when_longer() -> None:
    rng = random.Random(1)
    assert retry_delay_s(0, 2.0, 60.0, retry_after_s=30.0, rng=rng) == 30.0
    assert retry_delay_s(0, 2.0, 60.0, retry_after_s=0.5, rng=rng) <= 2.4
    assert retry_delay_s(0, 2.0, 60.0, retry_after_s=None, rng=rng) >= 2.0


def test_first_poll_is_never_before_the_estimate() -> None:
    rng = random.Random(3)
    firsts = [after_estimate_s(45.0, rng=rng) for _ in range(200)]
    assert all(45.0 <= f <= 45.0 * 1.1 for f in firsts)
