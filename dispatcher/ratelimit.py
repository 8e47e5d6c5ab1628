"""Per-provider request limits: at most N requests per S seconds, and at most K at once.

`RateWindow` is a sliding window (stricter than a leaky token bucket: never more than N
requests in ANY span of S seconds, which is how providers such as kie state their limit).
Callers take turns (a FIFO lock): each reserves the next free send time and sleeps until
it, so waiters are served first come, first served, without busy loops.

`SharedWindow` is the same limit kept in the database (`rate_grants`), so several
`serve` processes on one database send at most N requests per S seconds together.

`ProviderLimiter` adds a concurrency semaphore. `Limiters` holds two per provider, one
per budget: creating tasks (`TASKHOOK_{P}_RATE_LIMIT`, the provider's published limit,
shared through the database when one is given) and reads (`TASKHOOK_{P}_QUERY_RATE_LIMIT`
and `_QUERY_CONCURRENCY`: polls and confirming re-reads), so a burst of confirmations
never waits behind the create window and a create never waits behind a backlog of reads.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Protocol

from receiver.db import Database
from receiver.settings import RateLimit, Settings
from receiver.store.rate_grants import reserve_grant

Clock = Callable[[], float]
CREATE_OPERATION = "submit"


class Window(Protocol):
    """Something that grants requests at a limited rate."""

    async def acquire(self) -> None:
        """Wait until a request may be sent."""


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


class SharedWindow:
    """`RateWindow`'s limit kept in the database: global across processes; FIFO locally."""

    def __init__(self, db: Database, key: str, rate: RateLimit) -> None:
        self.requests = rate.requests
        self.per_s = rate.per_s
        self._db = db
        self._key = key
        self._turn = asyncio.Lock()

    async def acquire(self) -> None:
        """Reserve the next free moment in the shared window and wait for it."""
        async with self._turn:
            wait_s = await reserve_grant(self._db, self._key, self.requests, self.per_s)
            if wait_s > 0:
                await asyncio.sleep(wait_s)


class ProviderLimiter:
    """One budget of a provider: a rate window plus a concurrency limit."""

    def __init__(
        self,
        rate: RateLimit,
        max_concurrency: int,
        *,
        clock: Clock = time.monotonic,
        window: Window | None = None,
    ) -> None:
        self.window: Window = window or RateWindow(rate.requests, rate.per_s, clock=clock)
        self._slots = asyncio.Semaphore(max(1, max_concurrency))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one concurrency slot and one rate grant for the duration of a request."""
        async with self._slots:
            # the rate grant is taken after the slot, so its time is the real send time
            await self.window.acquire()
            yield


class Limiters:
    """Two `ProviderLimiter`s per provider (create, query), created on first use.

    With `db`, the create window is kept in the database and so holds across processes.
    """

    def __init__(
        self, settings: Settings, *, clock: Clock = time.monotonic, db: Database | None = None
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._db = db
        self._by_provider: dict[str, ProviderLimiter] = {}
        self._queries: dict[str, ProviderLimiter] = {}

    def for_operation(self, provider: str, operation: str) -> ProviderLimiter:
        """The budget an `operation` (`submit`, `query`, ...) of `provider` spends."""
        if operation == CREATE_OPERATION:
            return self.for_provider(provider)
        return self.for_queries(provider)

    def for_provider(self, provider: str) -> ProviderLimiter:
        """The create-task limiter of `provider` (the provider's published limit)."""
        limiter = self._by_provider.get(provider)
        if limiter is None:
            ps = self._settings.provider(provider)
            window = None
            if self._db is not None:
                window = SharedWindow(self._db, f"create:{provider}", ps.rate_limit)
            limiter = ProviderLimiter(
                ps.rate_limit, ps.max_concurrency, clock=self._clock, window=window
            )
            self._by_provider[provider] = limiter
        return limiter

    def for_queries(self, provider: str) -> ProviderLimiter:
        """The read limiter of `provider` (polls, confirming re-reads), per process."""
        limiter = self._queries.get(provider)
        if limiter is None:
            ps = self._settings.provider(provider)
            limiter = ProviderLimiter(ps.query_rate_limit, ps.query_concurrency, clock=self._clock)
            self._queries[provider] = limiter
        return limiter

    @property
    def known(self) -> Mapping[str, ProviderLimiter]:
        """Limiters created so far."""
        return self._by_provider
