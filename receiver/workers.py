"""Background workers: each does one bounded batch per `run_once()`; a runner loops them.

The same `run_once()` serves the long-running loop (`serve`) and one external tick
(`POST /api/tick`, `taskhook tick`) in serverless deployments. Tests drive the runner with
`tick()`, or give it a `ManualClock` so its idle sleeps end only when the test says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from receiver.clock import Clock, SystemClock

log = logging.getLogger(__name__)

DEFAULT_IDLE_S = 1.0
MAX_ERROR_BACKOFF_S = 30.0


class Worker(Protocol):
    """A unit of background work."""

    name: str

    async def run_once(self) -> int:
        """Handle one bounded batch; return how many items were handled (0 = idle)."""


class WorkerRunner:
    """Runs workers in loops until stopped; `wake()` cuts an idle sleep short."""

    def __init__(
        self,
        workers: Sequence[Worker] = (),
        *,
        idle_s: float = DEFAULT_IDLE_S,
        clock: Clock | None = None,
    ) -> None:
        self.workers: list[Worker] = list(workers)
        self._idle_s = idle_s
        self.clock: Clock = clock or SystemClock()
        self._wake: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._shared_tick: asyncio.Task[None] | None = None
        self._tick_again = False

    def add(self, worker: Worker) -> None:
        """Register a worker (before `start`)."""
        self.workers.append(worker)

    def wake(self, name: str | None = None) -> None:
        """Ask one worker (or all) to look for work now."""
        for key, event in self._wake.items():
            if name is None or key == name:
                event.set()

    def start(self) -> None:
        """Start one loop per worker."""
        for worker in self.workers:
            self._wake[worker.name] = asyncio.Event()
            self._tasks.append(asyncio.create_task(self._loop(worker), name=worker.name))

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Let current batches finish (up to `timeout_s`), then cancel."""
        self._stopping.set()
        self.wake()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def tick(self) -> dict[str, int]:
        """One bounded pass of every worker, in order; the counts handled."""
        return {worker.name: await self._safe_once(worker) for worker in self.workers}

    async def tick_soon(self) -> None:
        """A tick for serverless request paths, shared by concurrent callers.

        If a tick is already running, ask it for one more pass and wait for it instead
        of starting another: a burst of callbacks costs a few passes, not one each.
        """
        if self._shared_tick is None or self._shared_tick.done():
            self._shared_tick = asyncio.create_task(self._shared_passes(), name="tick")
        else:
            self._tick_again = True
        await asyncio.shield(self._shared_tick)

    async def _shared_passes(self) -> None:
        while True:
            self._tick_again = False
            await self.tick()
            if not self._tick_again:
                return

    async def _safe_once(self, worker: Worker) -> int:
        try:
            return await worker.run_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("worker %s failed; will retry", worker.name)
            return -1

    async def _loop(self, worker: Worker) -> None:
        failures = 0
        while not self._stopping.is_set():
            handled = await self._safe_once(worker)
            failures = failures + 1 if handled < 0 else 0
            if handled > 0:
                self.wake_others(worker.name)
                continue
            delay = self._idle_s if failures == 0 else min(MAX_ERROR_BACKOFF_S, 2.0**failures)
            await self._sleep(worker.name, delay)

    def wake_others(self, name: str) -> None:
        """Work done by one worker (a completion recorded) is often work for the others."""
        for key, event in self._wake.items():
            if key != name:
                event.set()

    async def _sleep(self, name: str, delay_s: float) -> None:
        """Idle until `delay_s` has passed on the clock or the worker is woken."""
        event = self._wake[name]
        await self.clock.wait(event, delay_s)
        event.clear()
