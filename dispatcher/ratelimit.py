"""Per-provider request limits: at most N requests per S seconds, and at most K at once.

`RateWindow` is a sliding window (stricter than a leaky token bucket: never more than N
requests in ANY span of S seconds, which is how providers such as kie state their limit).
Callers take turns (a FIFO lock): each reserves the next free send time and sleeps until
it, so waiters are served first come, first served, without busy loops.

`ProviderLimiter` adds a concurrency semaphore; the submitter and the poller share one
limiter per provider through `Limiters`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from receiver.settings import RateLimit, Settings

Clock = Callable[[], float]


class RateWindow:
    """At most `requests` grants in any window of `per_s` seconds; FIFO among waiters."""

    def __init__(self, requests: int, per_s: float, *, clock: Clock = time.monotonic) -> None:
        if requests < 1 or per_s <= 0:
            raise ValueError(
                f"a rate limit needs requests >= 1 and per_s > 0, not {requests}/{per_s}"
            )
        self.requests = requests
        self.per_s = per_s
        self._clock = clock
        self._grants: deque[float] = deque(maxlen=requests)
        self._turn = asyncio.Lock()

    def reserve(self) -> float:
        """Reserve the next free send time; return how long to wait for it (seconds)."""
        now = self._clock()
        at = now
        if len(self._grants) == self.requests:
            at = max(now, self._grants[0] + self.per_s)
        self._grants.append(at)
        return at - now

    async def acquire(self) -> None:
        """Wait until a request may be sent (waiters are served strictly in arrival order)."""
        async with self._turn:
            wait_s = self.reserve()
            if wait_s > 0:
                await asyncio.sleep(wait_s)


class ProviderLimiter:
    """One provider's rate window plus its concurrency limit."""

    def __init__(self, rate: RateLimit, max_concurrency: int, *, clock: Clock = time.monotonic):
        self.window = RateWindow(rate.requests, rate.per_s, clock=clock)
        self._slots = asyncio.Semaphore(max(1, max_concurrency))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one concurrency slot and one rate grant for the duration of a request."""
        async with self._slots:
            # the rate grant is taken after the slot, so its time is the real send time
            await self.window.acquire()
            yield


class Limiters:
    """One `ProviderLimiter` per provider, created on first use from settings."""

    def __init__(self, settings: Settings, *, clock: Clock = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._by_provider: dict[str, ProviderLimiter] = {}

    def for_provider(self, provider: str) -> ProviderLimiter:
        """The shared limiter of `provider`."""
        limiter = self._by_provider.get(provider)
        if limiter is None:
            ps = self._settings.provider(provider)
            limiter = ProviderLimiter(ps.rate_limit, ps.max_concurrency, clock=self._clock)
            self._by_provider[provider] = limiter
        return limiter

    @property
    def known(self) -> Mapping[str, ProviderLimiter]:
        """Limiters created so far."""
        return self._by_provider
