"""Rate and concurrency limits: never more than N per S seconds, FIFO, no busy waiting."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from dispatcher.ratelimit import Limiters, ProviderLimiter, RateWindow
from receiver.db import Database
from receiver.errors import ConfigError
from receiver.settings import ProviderSettings, RateLimit, Settings
from receiver.store.rate_grants import reserve_grant

ROOT = Path(__file__).resolve().parents[2]


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


# --- two budgets per provider; the create budget shared through the database ---------------


def _budgets(db_url: str) -> Settings:
    kie = ProviderSettings(
        "kie", "http://unused", rate_limit=RateLimit(1, 60.0),
        query_rate_limit=RateLimit(1000, 1.0), query_concurrency=4,
    )  # fmt: skip
    return Settings(db=db_url, providers={"kie": kie})


async def test_reads_never_wait_in_the_create_window(db: Database, db_url: str) -> None:
    limiters = Limiters(_budgets(db_url), db=db)
    create = limiters.for_operation("kie", "submit")
    reads = limiters.for_operation("kie", "query")
    assert create is limiters.for_provider("kie") and reads is limiters.for_queries("kie")
    assert reads is not create
    async with create.slot():  # the one create this minute allows
        pass
    started = time.monotonic()
    for _ in range(20):  # a burst of confirmations: not held by the spent create window
        async with reads.slot():
            pass
    assert time.monotonic() - started < 5
    # the create window really is spent: the next create would wait about a minute
    assert await reserve_grant(db, "create:kie", 1, 60.0, only_if_free=True) > 50


async def test_query_concurrency_is_its_own_limit(db: Database, db_url: str) -> None:
    reads = Limiters(_budgets(db_url), db=db).for_queries("kie")
    running = peak = 0

    async def read() -> None:
        nonlocal running, peak
        async with reads.slot():
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.02)
            running -= 1

    await asyncio.gather(*(read() for _ in range(12)))
    assert peak == 4


def test_query_budget_settings_from_the_environment() -> None:
    env = {"TASKHOOK_KIE_QUERY_RATE_LIMIT": "50/2", "TASKHOOK_KIE_QUERY_CONCURRENCY": "7"}
    kie = Settings.from_env(env).provider("kie")
    assert kie.query_rate_limit == RateLimit(50, 2.0) and kie.query_concurrency == 7
    assert kie.rate_limit == RateLimit(20, 10.0)  # the create limit is untouched
    for bad in ({"TASKHOOK_KIE_QUERY_RATE_LIMIT": "fast"},
                {"TASKHOOK_KIE_QUERY_CONCURRENCY": "0"}):  # fmt: skip
        with pytest.raises(ConfigError, match="TASKHOOK_KIE_QUERY"):
            Settings.from_env(bad)


@pytest.mark.slow
async def test_two_processes_share_one_create_window(db: Database, db_url: str) -> None:
    requests, per_s, each = 3, 1.0, 5
    args = [sys.executable, "-m", "tests.dispatcher.rate_child", db_url, str(each),
            str(requests), str(per_s)]  # fmt: skip
    procs = [
        await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT
        )
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert (await proc.stdout.readline()).strip() == b"ready"
    outs = await asyncio.gather(*(proc.communicate(b"go\n") for proc in procs))
    assert all(proc.returncode == 0 for proc in procs)
    grants = sorted(float(line) for out, _err in outs for line in out.split())
    assert len(grants) == 2 * each
    # never more than `requests` in any window of `per_s`, counting both processes
    for i in range(len(grants) - requests):
        assert grants[i + requests] - grants[i] >= per_s - 0.01
