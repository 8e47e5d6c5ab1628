"""Rate and concurrency limits: never more than N per S seconds, FIFO, no busy waiting."""

from __future__ import annotations

import asyncio
import time

from dispatcher.ratelimit import Limiters, ProviderLimiter, RateWindow
from receiver.settings import ProviderSettings, RateLimit, Settings


def test_window_reserves_slots_in_arrival_order() -> None:
    now = [100.0]
    window = RateWindow(3, 10.0, clock=lambda: now[0])
    waits = [window.reserve() for _ in range(7)]
    # three at once, then each waits for the grant N places earlier to leave the window
    assert waits == [0, 0, 0, 10, 10, 10, 20]
    now[0] = 112.0
    assert window.reserve() == 8.0  # the 3 latest grants: 110, 110, 120 -> next at 120


def test_no_window_of_s_seconds_ever_holds_more_than_n() -> None:
    now = [0.0]
    window = RateWindow(20, 10.0, clock=lambda: now[0])
    grants: list[float] = []
    for i in range(200):
        now[0] = i * 0.137  # callers keep arriving faster than the limit
        grants.append(now[0] + window.reserve())
    grants.sort()
    for i in range(len(grants) - 20):
        assert grants[i + 20] - grants[i] >= 10.0 - 1e-9


async def test_acquire_really_waits_and_serves_in_order() -> None:
    window = RateWindow(2, 0.2)
    order: list[int] = []
    started = time.monotonic()

    async def caller(i: int) -> None:
        await window.acquire()
        order.append(i)

    await asyncio.gather(*(caller(i) for i in range(5)))
    elapsed = time.monotonic() - started
    assert order == [0, 1, 2, 3, 4]
    assert 0.38 <= elapsed < 2.0  # 2 now, 2 after 0.2 s, 1 after 0.4 s


async def test_concurrency_is_capped() -> None:
    limiter = ProviderLimiter(RateLimit(1000, 1.0), max_concurrency=2)
    running = peak = 0

    async def request() -> None:
        nonlocal running, peak
        async with limiter.slot():
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.02)
            running -= 1

    await asyncio.gather(*(request() for _ in range(8)))
    assert peak == 2


def test_one_limiter_per_provider_from_settings() -> None:
    settings = Settings(
        providers={"kie": ProviderSettings("kie", "http://x", rate_limit=RateLimit(20, 10.0))}
    )
    limiters = Limiters(settings)
    kie = limiters.for_provider("kie")
    assert kie is limiters.for_provider("kie")  # shared by submitter and poller
    assert (kie.window.requests, kie.window.per_s) == (20, 10.0)
    assert limiters.for_provider("foxapi") is not kie
