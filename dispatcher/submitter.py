"""The submitter: sends stored tasks that have not reached their provider yet.

A task is stored first (status `submitted`, provider_task_id NULL) and sent second, so a
crash in between loses nothing: this worker finds it at restart. While a task is unsent,
`send_next_at` is the time of its next send attempt and `send_attempts` counts the
attempts that failed (see `receiver.store.sending`); once the provider has accepted it,
its poll schedule starts.

Double sends are prevented with a lease on the row (`send_lease_until`) that is renewed
by compare-and-set right before the request goes out: whoever lost the lease sends
nothing. (A crash after the provider accepted a task but before its id was stored can
still send it twice at restart: the providers offer no idempotency key.)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from dispatcher.dispatch import Dispatch
from dispatcher.providers.base import ProviderError, ProviderRejected, Submitted
from receiver.callback_tokens import new_token
from receiver.db import Row
from receiver.errors import InvalidInput
from receiver.retry import after_estimate_s, jittered_s, retry_delay_s
from receiver.store.completion import Outcome, record_completion
from receiver.store.jsonutil import loads
from receiver.store.lifecycle import task_started
from receiver.store.sending import (
    claim_due_sends,
    claim_send,
    mark_sent,
    renew_send_lease,
    schedule_send_retry,
)
from receiver.store.tasks import add_history, get_task

log = logging.getLogger(__name__)

SEND_LEASE_S = 120.0
BATCH = 20


class Submitter:
    """A worker that sends due, unsent tasks (with retries and backoff)."""

    name = "submitter"

    def __init__(self, dispatch: Dispatch, *, batch: int = BATCH) -> None:
        self._dispatch = dispatch
        self._batch = batch
        self._in_flight: set[str] = set()
        self._background: set[asyncio.Task[Row | None]] = set()

    async def run_once(self) -> int:
        """Claim a batch of due unsent tasks and send them."""
        rows = [r for r in await self._claim_due() if r["id"] not in self._in_flight]
        await asyncio.gather(*(self._send(row) for row in rows))
        return len(rows)

    async def send_now(self, task_id: str) -> Row | None:
        """Send one task right away (the API path); return its row afterwards."""
        row = await claim_send(
            self._dispatch.runtime.db, task_id, now=self._now(), lease_s=SEND_LEASE_S
        )
        if row is not None:
            await self._send(row)
        return await get_task(self._dispatch.runtime.db, task_id)

    async def send_within(self, task_id: str, wait_s: float) -> Row | None:
        """`send_now`, but answer after `wait_s` at most; a slow send goes on in the background.

        The API path uses this so that a hanging provider cannot hold `POST /api/tasks`
        open: the caller then gets the stored task (no provider id yet) and the send,
        or the submitter's retries, finish it.
        """
        send = asyncio.create_task(self.send_now(task_id), name=f"send-{task_id}")
        self._background.add(send)
        send.add_done_callback(self._background.discard)
        done, _pending = await asyncio.wait({send}, timeout=wait_s)
        if send in done:
            return send.result()
        log.info("task %s: provider slower than %.1fs; answering, the send goes on", task_id,
                 wait_s, extra={"task_id": task_id})  # fmt: skip
        return await get_task(self._dispatch.runtime.db, task_id)

    async def aclose(self, grace_s: float = 5.0) -> None:
        """At shutdown: let background sends finish for `grace_s`, then cancel them.

        A cancelled send keeps its lease; the task is sent again after the lease runs out.
        """
        if not self._background:
            return
        _done, pending = await asyncio.wait(set(self._background), timeout=grace_s)
        for send in pending:
            send.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _claim_due(self) -> list[Row]:
        db = self._dispatch.runtime.db
        return await claim_due_sends(db, now=self._now(), lease_s=SEND_LEASE_S, limit=self._batch)

    def _now(self) -> int:
        return self._dispatch.clock.now_ms()

    async def _send(self, row: Row) -> None:
        self._in_flight.add(row["id"])
        try:
            await self._attempt(row)
        except ProviderRejected as exc:
            await self._fail(row, exc.to_error())
        except InvalidInput as exc:
            await self._fail(row, {"code": "invalid_input", "message": exc.message})
        except ProviderError as exc:
            await self._retry_later(row, exc)
        except Exception:
            log.exception("sending task %s failed unexpectedly; will retry", row["id"])
            await self._retry_later(row, None)
        finally:
            self._in_flight.discard(row["id"])

    async def _attempt(self, row: Row) -> None:
        if row["deadline_at"] is not None and row["deadline_at"] <= self._now():
            await self._expire(row)
            return
        dispatch = self._dispatch
        provider, model = row["provider"], row["model"]
        adapter = dispatch.adapter(provider)
        settings = dispatch.provider_settings(provider)
        task_input = adapter.validate(model, loads(row["input"]))
        callback = dispatch.settings.public_url is not None and adapter.supports_callback(
            model, settings
        )
        owned, callback_url = await self._prepare(row, callback)
        if not owned:
            return  # another process took the task over
        submitted = await dispatch.call(
            provider,
            "submit",
            lambda: adapter.submit(dispatch.client, settings, model, task_input, callback_url),
        )
        await self._accepted(row, submitted, "callback" if callback else "poll")

    async def _prepare(self, row: Row, callback: bool) -> tuple[bool, str | None]:
        """Renew the lease (compare-and-set) and store the callback token's hash.

        Returns whether we still own the task, and the callback URL (None in poll mode).
        """
        token, token_hash = new_token() if callback else ("", None)
        mode = "callback" if callback else "poll"
        lease_until = await renew_send_lease(
            self._dispatch.runtime.db, row, now=self._now(), lease_s=SEND_LEASE_S, mode=mode,
            token_hash=token_hash,
        )  # fmt: skip
        if lease_until is None:
            return False, None
        row["send_lease_until"] = lease_until
        if not callback:
            return True, None
        return True, self._dispatch.settings.callback_url(row["provider"], token)

    async def _accepted(self, row: Row, submitted: Submitted, mode: str) -> None:
        state = submitted.state
        status = state.status if state is not None and not state.is_final else "submitted"
        progress = state.progress if state is not None else None
        first_s = self._first_poll_s(submitted.estimated_time_s, mode)
        first_poll_at = self._now() + int(first_s * 1000)
        async with self._dispatch.runtime.db.transaction() as tx:
            await mark_sent(
                tx,
                row["id"],
                provider_task_id=submitted.provider_task_id,
                status=status,
                progress=progress,
                first_poll_at=first_poll_at,
            )
            detail = {"provider_task_id": submitted.provider_task_id, "mode": mode,
                      "estimated_time_s": submitted.estimated_time_s}  # fmt: skip
            await add_history(tx, row["id"], "sent", detail)
            await task_started(tx, row["id"], submitted.estimated_time_s)
        log.info("task %s sent to %s as %s (%s)", row["id"], row["provider"],
                 submitted.provider_task_id, mode,
                 extra={"task_id": row["id"], "provider": row["provider"]})  # fmt: skip
        self._dispatch.poll_timer.arm(first_poll_at)
        if state is not None and state.is_final:
            outcome = Outcome(
                row["id"],
                state.status,
                "poll",
                state.result,
                state.error,
                state.cost,
                state.expires_at_ms,
            )
            await self._complete(row, outcome)

    def _first_poll_s(self, estimated_s: float | None, mode: str) -> float:
        settings = self._dispatch.settings
        if mode == "callback":
            return max(jittered_s(settings.poll_safety_interval_s), estimated_s or 0.0)
        if estimated_s:
            return max(settings.poll_min_interval_s, after_estimate_s(estimated_s))
        return settings.poll_min_interval_s

    async def _retry_later(self, row: Row, exc: ProviderError | None) -> None:
        settings = self._dispatch.settings
        attempts = int(row["send_attempts"] or 0) + 1
        delay_s = retry_delay_s(
            attempts - 1, settings.poll_min_interval_s, settings.poll_max_interval_s,
            retry_after_s=exc.retry_after_s if exc is not None else None,
        )  # fmt: skip
        if row["deadline_at"] is not None:
            # never wait past the deadline (e.g. a long Retry-After): expire on time instead
            delay_s = min(delay_s, max(0.0, (row["deadline_at"] - self._now()) / 1000))
        message = exc.message if exc is not None else "unexpected error (see the log)"
        log.warning("task %s: %s unavailable (%s); retry %d in %.1fs", row["id"],
                    row["provider"], message, attempts, delay_s)  # fmt: skip
        next_at = self._now() + int(delay_s * 1000)
        async with self._dispatch.runtime.db.transaction() as tx:
            await schedule_send_retry(tx, row["id"], next_at=next_at, attempts=attempts)
            detail: dict[str, Any] = {"attempt": attempts, "error": message,
                                      "retry_in_s": round(delay_s, 3)}  # fmt: skip
            await add_history(tx, row["id"], "send_retry", detail)
        self._dispatch.send_timer.arm(next_at)

    async def _fail(self, row: Row, error: dict[str, Any]) -> None:
        log.warning("task %s rejected by %s: %s", row["id"], row["provider"], error["message"],
                    extra={"task_id": row["id"], "provider": row["provider"]})  # fmt: skip
        await self._complete(row, Outcome(row["id"], "failed", "submit", error=error))

    async def _expire(self, row: Row) -> None:
        deadline_s = self._dispatch.settings.task_deadline_s
        message = f"{row['provider']} did not accept the task within {deadline_s:g}s"
        error = {"code": "deadline_exceeded", "message": message}
        await self._complete(row, Outcome(row["id"], "expired", "submit", error=error))

    async def _complete(self, row: Row, outcome: Outcome) -> None:
        runtime = self._dispatch.runtime
        event = await record_completion(runtime.db, outcome, hooks=runtime.completion_hooks)
        if event is not None:
            runtime.metrics.tasks.labels(row["provider"], outcome.status).inc()
