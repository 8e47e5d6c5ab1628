"""Per-subscriber token buckets: keep under a sink's message rate, and honour 429 holds."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """`rate_per_s` tokens a second, up to `burst`, one bucket per key."""

    def __init__(
        self,
        rate_per_s: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._tokens: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._held_until: dict[str, float] = {}

    def take(self, key: str) -> float:
        """Take a token now and return 0, or return the seconds until one is available."""
        now = self._clock()
        held = self._held_until.get(key, 0.0) - now
        if held > 0:
            return held
        tokens, at = self._tokens.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate_per_s)
        if tokens >= 1.0:
            self._tokens[key] = (tokens - 1.0, now)
            return 0.0
        self._tokens[key] = (tokens, now)
        return (1.0 - tokens) / self.rate_per_s

    def hold(self, key: str, seconds: float) -> None:
        """Send nothing for `key` during the next `seconds` (a server said Retry-After)."""
        until = self._clock() + seconds
        self._held_until[key] = max(self._held_until.get(key, 0.0), until)
        self._tokens[key] = (0.0, until)
