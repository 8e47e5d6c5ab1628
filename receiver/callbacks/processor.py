"""The inbox worker: turns accepted callbacks into task progress or one completion.

For each due inbox row: find the task (our id from the token route, else provider +
provider task id; a signed callback for an unknown task creates an external task),
confirm the outcome with the provider when the body is not signed (the provider's answer
wins), then record the completion (or progress), the task's history and the row's
processing. Rows flow through a `Pipeline`: many confirmations are in flight at once
(bounded by the provider's query budget), and the rows that finished together are
applied in one transaction. A failed confirmation retries its row later with backoff;
it never holds up the rows beside it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from receiver.callbacks.confirmer import Confirmer
from receiver.clock import now_ms
from receiver.db import Executor, Row
from receiver.pipeline import Pipeline, PipelineLimits
from receiver.provider_state import ProviderState
from receiver.providers.common import as_text
from receiver.providers.cost import keep_reported
from receiver.providers.source import Source
from receiver.retry import GiveUp, delay_for, exponential_s
from receiver.runtime import Runtime
from receiver.statuses import TERMINAL
from receiver.store.callback_audit import purge_callbacks
from receiver.store.completion import Outcome, record_completion_in
from receiver.store.inbox import (
    claim_due,
    finish_row,
    mark_processed,
    purge_processed,
    release_dedupe_key,
    renew_leases,
    retry_later,
)
from receiver.store.jsonutil import loads
from receiver.store.tasks import (
    NewTask,
    add_history,
    ensure_task,
    find_many,
    update_progress,
)

log = logging.getLogger(__name__)

MAX_MODEL_CHARS = 100


@dataclass(frozen=True)
class InboxOptions:
    """How the inbox worker paces itself.

    `batch`: rows in flight at once (their confirmations also wait for the provider's
    query budget). `lease_s`: a claimed row's lease, renewed every third of it while the
    row is in flight, so a crashed process's rows are taken again within `lease_s`.
    """

    batch: int = 256
    lease_s: float = 9.0
    confirm_timeout_s: float = 30.0
    retry_base_s: float = 5.0
    retry_max_s: float = 3600.0
    max_attempts: int = 12
    purge_every_s: float = 300.0
    max_pass_s: float = 5.0


@dataclass(frozen=True)
class Claim:
    """A leased inbox row and its task as stored when it was claimed (None: unknown)."""

    row: Row
    task: Row | None


@dataclass(frozen=True)
class Confirmed:
    """A row whose state is known: apply it (`task` None: create an external task)."""

    row: Row
    task: Row | None
    state: ProviderState
    confirmed: bool
    claimed: str = ""  # the status the body claimed (the row's dedupe key is made of it)


@dataclass(frozen=True)
class Failed:
    """A row that could not be confirmed now (retry) or ever (`give_up`)."""

    row: Row
    error: Exception
    give_up: bool


Prepared = Confirmed | Failed


class InboxWorker:
    """Processes the callback inbox; also purges old audit and inbox rows."""

    name = "callbacks"

    def __init__(
        self,
        runtime: Runtime,
        sources: dict[str, Source],
        options: InboxOptions | None = None,
        confirmer: Confirmer | None = None,
    ) -> None:
        self._runtime = runtime
        self._sources = sources
        self._confirmer = confirmer
        self._options = options or InboxOptions()
        self._next_purge_ms = 0
        self._warned: set[str] = set()
        opts = self._options
        self._pipeline: Pipeline[Claim, Prepared] = Pipeline(
            claim=self._claim, work=self._prepare, record=self._record, renew=self._renew,
            progress=lambda: runtime.runner.wake_others(self.name),
            limits=PipelineLimits(opts.batch, opts.max_pass_s, opts.lease_s / 3),
        )  # fmt: skip

    async def run_once(self) -> int:
        """Purge when due, then one pipeline pass over due rows; how many were claimed."""
        await self._maybe_purge()
        return await self._pipeline.run_once()

    async def _claim(self, limit: int) -> list[Claim]:
        """Lease due rows and look up their tasks, all of them in two queries."""
        db = self._runtime.db
        rows = await claim_due(db, limit=limit, lease_s=self._options.lease_s)
        if not rows:
            return []
        ids = sorted({r["task_id"] for r in rows if r["task_id"] is not None})
        ptids = sorted({r["provider_task_id"] for r in rows if r["task_id"] is None})
        by_id, by_ptid = await find_many(db, ids, ptids)
        return [
            Claim(row, by_id.get(row["task_id"]) if row["task_id"] is not None
                  else by_ptid.get((row["provider"], row["provider_task_id"])))
            for row in rows
        ]  # fmt: skip

    async def _renew(self, claims: list[Claim]) -> None:
        ids = [claim.row["id"] for claim in claims]
        await renew_leases(self._runtime.db, ids, lease_s=self._options.lease_s)

    async def _prepare(self, claim: Claim) -> Prepared:
        """Parse the body (once), confirm at the provider when needed."""
        row = claim.row
        try:
            return await self._confirm_row(row, claim.task)
        except GiveUp as exc:
            return Failed(row, exc, give_up=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a poison row must not block the rest: count and retry
            return Failed(row, exc, give_up=False)

    async def _confirm_row(self, row: Row, task: Row | None) -> Confirmed:
        source = self._sources.get(row["provider"])
        if source is None:
            raise GiveUp(f"no callback source {row['provider']!r} is configured any more")
        reported = _reported(source, row)
        if task is None and not row["signed"]:
            raise GiveUp("the task is unknown and the callback was not signed")
        if task is not None and task["status"] in TERMINAL:
            return Confirmed(row, task, reported, confirmed=False)
        state, confirmed = await self._confirm(source, row["provider_task_id"], reported)
        return Confirmed(row, task, keep_reported(state, reported), confirmed, reported.status)

    async def _record(self, results: list[Prepared]) -> None:
        for failed in (r for r in results if isinstance(r, Failed)):
            await self._fail(failed)
        ready = [r for r in results if isinstance(r, Confirmed)]
        if ready:
            await self._apply_all(ready)

    async def _fail(self, failed: Failed) -> None:
        row, exc = failed.row, failed.error
        reason = f"{type(exc).__name__}: {exc}"[:500]
        attempts = int(row["attempts"]) + 1
        if failed.give_up:
            log.warning("callback %s given up: %s", row["id"], exc)
            await mark_processed(self._runtime.db, row["id"], error=str(exc))
            return
        if attempts >= self._options.max_attempts or isinstance(exc, GiveUp):
            log.warning("callback %s given up after %d attempts: %s", row["id"], attempts, reason)
            await mark_processed(self._runtime.db, row["id"], error=reason)
            return
        opts = self._options
        delay = delay_for(exc, exponential_s(attempts - 1, opts.retry_base_s, opts.retry_max_s))
        log.info("callback %s: attempt %d failed (%s); retry in %.1f s", row["id"], attempts,
                 reason, delay)  # fmt: skip
        await retry_later(self._runtime.db, row["id"], delay_s=delay, error=reason)

    async def _apply_all(self, ready: list[Confirmed]) -> None:
        """All in one transaction; if that fails, each alone, so one bad row fails alone."""

        async def apply_all(tx: Executor) -> list[tuple[str, str] | None]:
            return [await self._apply(tx, item) for item in ready]

        try:
            done = await self._runtime.db.run_transaction(apply_all)
        except asyncio.CancelledError:
            raise
        except Exception:
            if len(ready) > 1:
                log.warning("applying %d callbacks together failed; one by one", len(ready))
            for item in ready:
                await self._apply_alone(item)
            return
        self._count(done)

    async def _apply_alone(self, item: Confirmed) -> None:
        async def apply(tx: Executor) -> tuple[str, str] | None:
            return await self._apply(tx, item)

        try:
            done = await self._runtime.db.run_transaction(apply)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._fail(Failed(item.row, exc, give_up=False))
            return
        self._count([done])

    def _count(self, done: list[tuple[str, str] | None]) -> None:
        for completed in done:
            if completed is not None:
                self._runtime.metrics.tasks.labels(*completed).inc()

    async def _confirm(
        self, source: Source, provider_task_id: str, reported: ProviderState
    ) -> tuple[ProviderState, bool]:
        """The provider's own answer when the body is unsigned and a confirmer exists."""
        name = source.name
        if source.signs_body or not self._runtime.settings.provider(name).confirm_callbacks:
            return reported, False
        confirmer = self._confirmer
        if confirmer is None or not confirmer.confirms(name):
            if name not in self._warned:
                self._warned.add(name)
                log.warning("no confirmer for %s: trusting unsigned callback bodies", name)
            return reported, False
        async with asyncio.timeout(self._options.confirm_timeout_s):
            return await confirmer.confirm(name, provider_task_id), True

    async def _apply(self, tx: Executor, item: Confirmed) -> tuple[str, str] | None:
        """Record one row's state; (provider, status) when it completed the task."""
        row, state = item.row, item.state
        if not await finish_row(tx, row["id"]):
            return None  # processed meanwhile by a process that took the lease over
        task = item.task or await self._external_task(tx, row, state)
        detail = {"status": state.status, "progress": state.progress,
                  "confirmed": item.confirmed, "inbox_id": row["id"]}  # fmt: skip
        event = None
        if state.is_final:
            outcome = Outcome(task["id"], state.status, "callback", state.result, state.error,
                              state.cost, state.expires_at_ms)  # fmt: skip
            hooks = self._runtime.completion_hooks
            event = await record_completion_in(tx, outcome, hooks=hooks)
        else:
            await update_progress(tx, task["id"], status=state.status, progress=state.progress)
        await add_history(tx, task["id"], "callback", detail)
        if item.claimed and item.claimed != state.status:  # dedupe on what was recorded
            await release_dedupe_key(tx, row["id"], state.status)
        return (task["provider"], state.status) if event is not None else None

    async def _external_task(self, tx: Executor, row: Row, state: ProviderState) -> Row:
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
        found, created = await ensure_task(tx, task)
        if created:
            log.info("callback for unknown %s task: recorded as external task %s",
                     row["provider"], found["id"])  # fmt: skip
        return found

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


def _reported(source: Source, row: Row) -> ProviderState:
    """The state the callback reported: parsed when it was received (rows stored before
    migration 0010 have only their body, parsed now)."""
    if row.get("state"):
        return ProviderState.from_json(row["state"])
    return source.parse(loads(row["body"]))
