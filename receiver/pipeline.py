"""A worker pass that keeps many leased rows in flight and records them in batches.

The inbox worker (confirming re-reads at a provider) and the delivery worker (HTTP posts
to subscribers) have the same shape: claim due rows with a lease, do slow network work
for each, then write each row's outcome. Done one batch at a time, a pass is as slow as
its slowest row and every row pays for a transaction of its own. A `Pipeline` pass
instead:

- claims up to `capacity` rows and starts the work for each at once;
- records finished rows as they finish, all that finished together (within
  `linger_s` of the first) in one `record` call (one transaction, one fsync), so a slow
  row never holds up the rows beside it;
- claims more rows whenever a slot is free (looking at least every
  `refill_every_s`), until `max_pass_s` has passed (a stream of work flows through one
  pass; a serverless tick still ends);
- calls `progress()` after each record, so the next stage (e.g. deliveries after
  completions) starts at once instead of when this pass ends;
- renews the leases of the rows in flight every `renew_every_s`, so a short lease can
  say "this process is alive" and a crashed process's rows are taken again soon.

The pass returns once nothing is in flight: a tick (`POST /api/tick`) therefore leaves
no work behind. `work` must not raise: it turns failures into results `record` writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class PipelineLimits:
    """How much a pass holds at once and how long it keeps taking new work."""

    capacity: int = 64
    max_pass_s: float = 5.0
    renew_every_s: float = 3.0
    refill_every_s: float = 0.05
    linger_s: float = 0.01  # after a row finishes, wait this long for others to share its commit


class Pipeline(Generic[Item, Result]):
    """See the module docstring."""

    def __init__(
        self,
        *,
        claim: Callable[[int], Awaitable[Sequence[Item]]],
        work: Callable[[Item], Coroutine[Any, Any, Result]],
        record: Callable[[list[Result]], Awaitable[None]],
        renew: Callable[[list[Item]], Awaitable[None]] | None = None,
        progress: Callable[[], None] | None = None,
        limits: PipelineLimits | None = None,
    ) -> None:
        self._claim, self._work, self._record, self._renew = claim, work, record, renew
        self._progress = progress
        self.limits = limits or PipelineLimits()
        self._running: dict[asyncio.Task[Result], Item] = {}

    @property
    def in_flight(self) -> int:
        """Rows being worked on right now."""
        return len(self._running)

    async def run_once(self) -> int:
        """One pass (see the module docstring); how many rows it claimed."""
        claimed = await self._fill()
        if not claimed:
            return 0
        deadline = time.monotonic() + self.limits.max_pass_s
        renewer = asyncio.create_task(self._renew_loop(), name="lease-renewal")
        try:
            while self._running:
                await self._record_finished()
                if time.monotonic() < deadline and self._free() > 0:
                    claimed += await self._fill()
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await self._abandon()
        return claimed

    def _free(self) -> int:
        return self.limits.capacity - len(self._running)

    async def _fill(self) -> int:
        items = await self._claim(self._free()) if self._free() > 0 else []
        for item in items:
            self._running[asyncio.create_task(self._work(item))] = item
        return len(items)

    async def _record_finished(self) -> None:
        done, _ = await asyncio.wait(
            list(self._running),
            timeout=self.limits.refill_every_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not done:
            return
        still = self._running.keys() - done
        if still and self.limits.linger_s > 0:
            more, _ = await asyncio.wait(still, timeout=self.limits.linger_s)
            done |= more
        for task in done:
            del self._running[task]
        await self._record([task.result() for task in done])
        if self._progress is not None:
            self._progress()

    async def _renew_loop(self) -> None:
        if self._renew is None:
            return
        while True:
            await asyncio.sleep(self.limits.renew_every_s)
            if not self._running:
                continue
            try:
                await self._renew(list(self._running.values()))
            except Exception:  # the next renewal (or the lease running out) covers it
                log.warning("renewing %d leases failed", len(self._running), exc_info=True)

    async def _abandon(self) -> None:
        """Cancel what is left (the pass failed or was cancelled); leases will run out."""
        tasks = list(self._running)
        self._running.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
