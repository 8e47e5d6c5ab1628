"""The inbox worker: turns accepted callbacks into task progress or one completion.

For each due inbox row: find the task (our id from the token route, else provider +
provider task id; a signed callback for an unknown task creates an external task),
confirm the outcome with the provider when the body is not signed (the provider's answer
wins), then in one transaction record the completion (or progress), the task's history
and the row's processing. A failed confirmation retries the row later with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from receiver.callbacks.sources import Source
from receiver.clock import now_ms
from receiver.db import Row
from receiver.errors import DuplicateKey
from receiver.provider_results.common import as_text
from receiver.provider_state import ProviderState
from receiver.runtime import Runtime
from receiver.store.audit import purge_callbacks
from receiver.store.completion import Outcome, record_completion_in
from receiver.store.inbox import (
    claim_due,
    mark_processed,
    purge_processed,
    release_dedupe_key,
    retry_later,
)
from receiver.store.jsonutil import loads
from receiver.store.tasks import (
    TERMINAL,
    NewTask,
    add_history,
    find_by_provider_id,
    get_task,
    insert_task,
    update_progress,
)

log = logging.getLogger(__name__)

MAX_MODEL_CHARS = 100


class GiveUp(Exception):
    """This row can never be processed; keep it, processed, with the reason."""


@dataclass(frozen=True)
class InboxOptions:
    """How the inbox worker paces itself."""

    batch: int = 20
    lease_s: float = 60.0
    confirm_timeout_s: float = 30.0
    retry_base_s: float = 5.0
    retry_max_s: float = 3600.0
    max_attempts: int = 12
    purge_every_s: float = 300.0


class InboxWorker:
    """Processes the callback inbox; also purges old audit and inbox rows."""

    name = "callbacks"

    def __init__(
        self, runtime: Runtime, sources: dict[str, Source], options: InboxOptions | None = None
    ) -> None:
        self._runtime = runtime
        self._sources = sources
        self._options = options or InboxOptions()
        self._next_purge_ms = 0
        self._warned: set[str] = set()

    async def run_once(self) -> int:
        """Purge when due, then process one batch of due rows; how many were handled."""
        await self._maybe_purge()
        rows = await claim_due(
            self._runtime.db, limit=self._options.batch, lease_s=self._options.lease_s
        )
        # One row at a time: concurrent rows would interleave their transactions with the
        # request path's group commits and halve callback ingest (bench/ingest.py). The
        # confirming re-reads this serialises are bounded by the provider's own rate
        # (kie: 20 new tasks per 10 s).
        for row in rows:
            await self._process_safely(row)
        return len(rows)

    async def _process_safely(self, row: Row) -> None:
        try:
            await self._process(row)
        except GiveUp as exc:
            log.warning("callback %s given up: %s", row["id"], exc)
            await mark_processed(self._runtime.db, row["id"], error=str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a poison row must not block the rest: count and retry
            await self._retry(row, exc)

    async def _retry(self, row: Row, exc: Exception) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:500]
        attempts = int(row["attempts"]) + 1
        if attempts >= self._options.max_attempts or getattr(exc, "retryable", True) is False:
            log.warning("callback %s given up after %d attempts: %s", row["id"], attempts, reason)
            await mark_processed(self._runtime.db, row["id"], error=reason)
            return
        delay = min(self._options.retry_max_s, self._options.retry_base_s * 2 ** (attempts - 1))
        delay = max(delay, float(getattr(exc, "retry_after_s", None) or 0.0))
        log.info("callback %s: attempt %d failed (%s); retry in %.1f s", row["id"], attempts,
                 reason, delay)  # fmt: skip
        await retry_later(self._runtime.db, row["id"], delay_s=delay, error=reason)

    async def _process(self, row: Row) -> None:
        source = self._sources.get(row["provider"])
        if source is None:
            raise GiveUp(f"no callback source {row['provider']!r} is configured any more")
        reported = source.parse(loads(row["body"]))
        task = await self._find_task(row)
        if task is None and not row["signed"]:
            raise GiveUp("the task is unknown and the callback was not signed")
        if task is not None and task["status"] in TERMINAL:
            await self._apply(row, task, reported, confirmed=False)
            return
        state, confirmed = await self._confirm(source, row["provider_task_id"], reported)
        if task is None:
            task = await self._external_task(row, state)
        await self._apply(row, task, state, confirmed=confirmed, claimed=reported.status)

    async def _find_task(self, row: Row) -> Row | None:
        db = self._runtime.db
        if row["task_id"] is not None:
            return await get_task(db, row["task_id"])
        return await find_by_provider_id(db, row["provider"], row["provider_task_id"])

    async def _confirm(
        self, source: Source, provider_task_id: str, reported: ProviderState
    ) -> tuple[ProviderState, bool]:
        """The provider's own answer when the body is unsigned and a confirmer exists."""
        name = source.name
        if source.signs_body or not self._runtime.settings.provider(name).confirm_callbacks:
            return reported, False
        confirmer = self._runtime.confirmers.get(name)
        if confirmer is None:
            if name not in self._warned:
                self._warned.add(name)
                log.warning("no confirmer for %s: trusting unsigned callback bodies", name)
            return reported, False
        async with asyncio.timeout(self._options.confirm_timeout_s):
            return await confirmer(provider_task_id), True

    async def _external_task(self, row: Row, state: ProviderState) -> Row:
        raw: dict[str, Any] = state.raw or {}
        model = as_text(raw.get("model")) or "unknown"
        task = NewTask(
            provider=row["provider"],
            model=model[:MAX_MODEL_CHARS].replace("\x00", ""),
            input={},
            mode="callback",
            provider_task_id=row["provider_task_id"],
            external=True,
        )
        try:
            created = await insert_task(self._runtime.db, task)
        except DuplicateKey:
            found = await self._find_task(row)
            if found is None:
                raise
            return found
        log.info("callback for unknown %s task: recorded as external task %s",
                 row["provider"], created["id"])  # fmt: skip
        return created

    async def _apply(
        self, row: Row, task: Row, state: ProviderState, *, confirmed: bool, claimed: str = ""
    ) -> None:
        runtime = self._runtime
        detail = {"status": state.status, "progress": state.progress, "confirmed": confirmed,
                  "inbox_id": row["id"]}  # fmt: skip
        event = None
        async with runtime.db.transaction() as tx:
            if state.is_final:
                outcome = Outcome(task["id"], state.status, "callback", state.result, state.error)
                event = await record_completion_in(tx, outcome, hooks=runtime.completion_hooks)
            else:
                await update_progress(tx, task["id"], status=state.status, progress=state.progress)
            await add_history(tx, task["id"], "callback", detail)
            if claimed and claimed != state.status:  # dedupe on what was recorded
                await release_dedupe_key(tx, row["id"], state.status)
            await mark_processed(tx, row["id"])
        if event is not None:
            runtime.metrics.tasks.labels(task["provider"], state.status).inc()

    async def _maybe_purge(self) -> None:
        now = now_ms()
        if now < self._next_purge_ms:
            return
        self._next_purge_ms = now + int(self._options.purge_every_s * 1000)
        cutoff = now - int(self._runtime.settings.callback_retention_s * 1000)
        audits = await purge_callbacks(self._runtime.db, older_than_ms=cutoff)
        inbox = await purge_processed(self._runtime.db, older_than_ms=cutoff)
        if audits or inbox:
            log.info("purged %d callback audit rows and %d inbox rows", audits, inbox)
