"""`WakeTimer`: wake a worker when its next row falls due, instead of at its next idle tick.

The worker runner sleeps a fixed idle interval between empty batches; a poll due sooner
would wait for it. A worker that knows when its next row is due arms this timer, which
calls the runner's `wake()` at that moment (only the earliest time is kept).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from receiver.clock import Clock, SystemClock


class WakeTimer:
    """Calls `wake` at the earliest time it was armed for."""

    def __init__(self, wake: Callable[[], None] | None, clock: Clock | None = None) -> None:
        self._wake = wake
        self._clock: Clock = clock or SystemClock()
        self._handle: asyncio.TimerHandle | None = None
        self._at_ms: int | None = None

    def arm(self, at_ms: int | None) -> None:
        """Wake at `at_ms` (epoch ms), unless a wake-up is already set for earlier."""
        if at_ms is None or self._wake is None:
            return
        if self._handle is not None and not self._handle.cancelled() and self._at_ms is not None:
            if self._at_ms <= at_ms and self._at_ms >= self._clock.now_ms():
                return
            self._handle.cancel()
        delay_s = max(0.0, (at_ms - self._clock.now_ms()) / 1000)
        self._at_ms = at_ms
        self._handle = asyncio.get_running_loop().call_later(delay_s, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._at_ms = None
        if self._wake is not None:
            self._wake()

    def cancel(self) -> None:
        """Forget any pending wake-up."""
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._at_ms = None
