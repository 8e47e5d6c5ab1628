"""The poller: asks providers about sent tasks when they are due, until each ends.

The schedule lives in the tasks table (`next_poll_at`, `poll_count`, `deadline_at`; see
`receiver.store.polling`), so a restart resumes it. Rows are claimed with a lease
(`poll_lease_until`), so several processes can poll one store without asking twice about
a task.

- poll mode: first poll at the provider's estimated time (else `poll_min_interval_s`),
  then exponential backoff with jitter between `poll_min_interval_s` and
  `poll_max_interval_s`;
- callback mode: only a slow safety-net poll every `poll_safety_interval_s`;
- past `deadline_at` a last query is made; unless it finds the task final, the task
  ends `expired` (event `task.expired`);
- a transient query error (429/5xx/network) backs off, honouring Retry-After;
- a permanent query error (e.g. kie 422 "recordInfo is null") is not trusted at once:
  providers can answer it for a task created a moment ago. It is retried with backoff,
  and only after `poll_max_rejections` of them does the task fail with that error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from dispatcher.dispatch import Dispatch
from dispatcher.providers.base import ProviderError, ProviderRejected
from receiver.db import Row
from receiver.provider_state import ProviderState
from receiver.providers.common import as_dict
from receiver.retry import backoff_s, jittered_s, retry_delay_s
from receiver.store.completion import Outcome, record_completion
from receiver.store.polling import (
    claim_due_polls,
    next_poll_due,
    poll_rejections,
    reschedule_poll,
    schedule_poll,
)
from receiver.store.tasks import add_history, update_progress

log = logging.getLogger(__name__)

POLL_LEASE_S = 120.0
BATCH = 50


class Poller:
    """A worker that polls due tasks and records what it finds."""

    name = "poller"

    def __init__(self, dispatch: Dispatch, *, batch: int = BATCH) -> None:
        self._dispatch = dispatch
        self._batch = batch
        self._in_flight: set[str] = set()

    async def run_once(self) -> int:
        """Claim a batch of due tasks and poll each once."""
        rows = [r for r in await self._claim_due() if r["id"] not in self._in_flight]
        await asyncio.gather(*(self._poll(row) for row in rows))
        if not rows:
            db, now = self._dispatch.runtime.db, self._dispatch.clock.now_ms()
            self._dispatch.poll_timer.arm(await next_poll_due(db, now=now))
        return len(rows)

    async def _claim_due(self) -> list[Row]:
        db = self._dispatch.runtime.db
        now = self._dispatch.clock.now_ms()
        return await claim_due_polls(db, now=now, lease_s=POLL_LEASE_S, limit=self._batch)

    async def _poll(self, row: Row) -> None:
        self._in_flight.add(row["id"])
        try:
            await self._poll_once(row)
        except Exception:
            log.exception("polling task %s failed unexpectedly; will retry", row["id"])
            await self._reschedule(row, self._dispatch.settings.poll_max_interval_s)
        finally:
            self._in_flight.discard(row["id"])

    async def _poll_once(self, row: Row) -> None:
        past_deadline = row["deadline_at"] is not None and row["deadline_at"] <= self._now()
        try:
            state = await self._dispatch.query(
                row["provider"], row["provider_task_id"], as_dict(row["input"])
            )
        except ProviderError as exc:
            if past_deadline:
                await self._expire(row, row["status"])
            else:
                await self._on_error(row, exc)
            return
        if state.is_final:
            await self._complete(row, state)
        elif past_deadline:
            await self._expire(row, state.status)
        else:
            await self._on_progress(row, state)

    async def _on_progress(self, row: Row, state: ProviderState) -> None:
        count = int(row["poll_count"] or 0) + 1
        delay_s = self._next_delay_s(row, count)
        next_at = self._now() + int(delay_s * 1000)
        async with self._dispatch.runtime.db.transaction() as tx:
            await update_progress(tx, row["id"], status=state.status, progress=state.progress)
            await schedule_poll(tx, row["id"], next_at=next_at, count=count)
            detail = {"status": state.status, "progress": state.progress,
                      "next_in_s": round(delay_s, 3)}  # fmt: skip
            await add_history(tx, row["id"], "poll", detail)
        self._dispatch.poll_timer.arm(next_at)

    def _now(self) -> int:
        return self._dispatch.clock.now_ms()

    def _next_delay_s(self, row: Row, count: int) -> float:
        settings = self._dispatch.settings
        if row["mode"] == "callback":
            return jittered_s(settings.poll_safety_interval_s)
        # gaps after the first poll (at min): 2*min, 4*min, ... capped at max
        return backoff_s(count, settings.poll_min_interval_s, settings.poll_max_interval_s)

    async def _on_error(self, row: Row, exc: ProviderError) -> None:
        settings = self._dispatch.settings
        count = int(row["poll_count"] or 0) + 1
        kind = "poll_rejected" if isinstance(exc, ProviderRejected) else "poll_error"
        rejected = kind == "poll_rejected"
        db = self._dispatch.runtime.db
        if rejected and await poll_rejections(db, row["id"]) + 1 >= settings.poll_max_rejections:
            await self._finish(row, Outcome(row["id"], "failed", "poll", error=exc.to_error()))
            return
        delay_s = retry_delay_s(
            count - 1, settings.poll_min_interval_s, settings.poll_max_interval_s,
            retry_after_s=exc.retry_after_s,
        )  # fmt: skip
        log.warning("task %s: query at %s failed (%s); next try in %.1fs",
                    row["id"], row["provider"], exc.message, delay_s)  # fmt: skip
        next_at = self._now() + int(delay_s * 1000)
        async with db.transaction() as tx:
            await schedule_poll(tx, row["id"], next_at=next_at, count=count)
            detail: dict[str, Any] = {"error": exc.to_error(), "next_in_s": round(delay_s, 3)}
            await add_history(tx, row["id"], kind, detail)
        self._dispatch.poll_timer.arm(next_at)

    async def _reschedule(self, row: Row, delay_s: float) -> None:
        next_at = self._now() + int(delay_s * 1000)
        await reschedule_poll(self._dispatch.runtime.db, row["id"], next_at=next_at)

    async def _complete(self, row: Row, state: ProviderState) -> None:
        outcome = Outcome(row["id"], state.status, "poll", state.result, state.error, state.cost,
                          state.expires_at_ms)  # fmt: skip
        await self._finish(row, outcome)

    async def _expire(self, row: Row, last_status: str) -> None:
        deadline_s = self._dispatch.settings.task_deadline_s
        message = (
            f"{row['provider']} did not finish the task within {deadline_s:g}s "
            f"(last status: {last_status}); raise TASKHOOK_TASK_DEADLINE_S if it needs longer"
        )
        error = {"code": "deadline_exceeded", "message": message}
        await self._finish(row, Outcome(row["id"], "expired", "poll", error=error))

    async def _finish(self, row: Row, outcome: Outcome) -> None:
        runtime = self._dispatch.runtime
        event = await record_completion(runtime.db, outcome, hooks=runtime.completion_hooks)
        if event is not None:
            runtime.metrics.tasks.labels(row["provider"], outcome.status).inc()
            ids = {"task_id": row["id"], "event_id": event["id"], "provider": row["provider"]}
            log.info("task %s %s (found by polling)", row["id"], outcome.status, extra=ids)
