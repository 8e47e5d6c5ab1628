"""Time in one place: UTC epoch milliseconds in the store, RFC 3339 at the edges."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Protocol


def now_ms() -> int:
    """The current UTC time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


class Clock(Protocol):
    """The time and the waiting a component depends on, so a test can drive both by hand."""

    def now_ms(self) -> int:
        """The current UTC time in epoch milliseconds."""

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` have passed on this clock."""

    async def wait(self, event: asyncio.Event, seconds: float) -> None:
        """Return once `event` is set or `seconds` have passed on this clock."""


class SystemClock:
    """The real clock: the system time and the event loop's timers."""

    def now_ms(self) -> int:
        """The current UTC time in epoch milliseconds."""
        return now_ms()

    async def sleep(self, seconds: float) -> None:
        """Wait on the event loop."""
        await asyncio.sleep(seconds)

    async def wait(self, event: asyncio.Event, seconds: float) -> None:
        """`event.wait()` bounded by a loop timer (the runner's idle wait: kept cheap)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=seconds)


class ManualClock:
    """Time that moves only when `advance()` is called (tests): no test waits on real time.

    A `sleep()` returns once the clock has been advanced past its end; until then it waits,
    however long the test takes.
    """

    def __init__(self, start_ms: int | None = None) -> None:
        self._now_s = (now_ms() if start_ms is None else start_ms) / 1000
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now_ms(self) -> int:
        """The clock's time in epoch milliseconds."""
        return round(self._now_s * 1000)

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has been advanced by `seconds` (at once when <= 0)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        waiter = asyncio.get_running_loop().create_future()
        entry = (self._now_s + seconds, waiter)
        self._sleepers.append(entry)
        try:
            await waiter
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    async def wait(self, event: asyncio.Event, seconds: float) -> None:
        """Until `event` is set or the clock has been advanced by `seconds`."""
        woken = asyncio.ensure_future(event.wait())
        timer = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait((woken, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            timer.cancel()

    def advance(self, seconds: float) -> None:
        """Move the time forward; every sleep that has ended by then wakes."""
        self._now_s += seconds
        for end, waiter in list(self._sleepers):
            if end <= self._now_s and not waiter.done():
                waiter.set_result(None)

    @property
    def sleepers(self) -> int:
        """How many sleeps are waiting for the clock to move."""
        return sum(1 for _end, waiter in self._sleepers if not waiter.done())


def rfc3339(ms: int | None) -> str | None:
    """Format epoch milliseconds as RFC 3339 UTC (`2026-11-23T18:00:00.123Z`)."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> int:
    """Parse RFC 3339 / ISO 8601 (a naive time is taken as UTC) into epoch milliseconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
