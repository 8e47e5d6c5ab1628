"""The delivery worker: claim due deliveries with a lease, send, record what happened.

One pass (`run_once`) is a `Pipeline`: lease due deliveries, send up to `concurrency`
at once, and record the attempts and outcomes of those that finished together in one
transaction, claiming more as slots free up. A slow subscriber holds only its own rows.
Leases are short and renewed while a send is in flight; a crash after sending but
before recording leaves the lease to run out, and the message is then sent again with
the same `webhook-id` (at-least-once). Paused subscribers' deliveries are not claimed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from receiver.clock import now_ms
from receiver.db import Database, Executor, Row
from receiver.fanout.exhausted import note_exhausted
from receiver.fanout.sinks import Sink, Target, Verdict
from receiver.fanout.targets import target_for
from receiver.ids import new_id
from receiver.metrics import Metrics
from receiver.pipeline import Pipeline, PipelineLimits
from receiver.retry import scheduled_delay_s
from receiver.secretbox import SecretBox
from receiver.settings import Settings
from receiver.store.deliveries import (
    add_attempt,
    claim_due,
    defer,
    disable_subscriber,
    mark_delivered,
    mark_failed,
    renew_leases,
    rows_by_id,
)
from receiver.store.jsonutil import loads
from receiver.store.rate_grants import reserve_grant
from receiver.store.subscribers import note_failure, note_success, redact_url

log = logging.getLogger(__name__)

DEFAULT_BATCH = 64  # deliveries in flight at once (claimed, waiting for a send slot)
DEFAULT_CONCURRENCY = 32  # sends in flight at once


@dataclass(frozen=True)
class Claimed:
    """A leased delivery with what sending it needs (None: removed meanwhile)."""

    delivery: Row
    event: Row | None
    target: Target | None
    subscriber: Row | None


@dataclass(frozen=True)
class Sent:
    """One attempt made: what was sent where, and what came of it."""

    delivery: Row
    target: Target
    subscriber: Row
    verdict: Verdict
    started_at: int
    latency_ms: int
    event_created_at: int


class DeliveryWorker:
    """Delivers pending rows of `deliveries`; several may run, in one or many processes."""

    name = "deliveries"

    def __init__(
        self,
        db: Database,
        settings: Settings,
        client: httpx.AsyncClient,
        sinks: Mapping[str, Sink],
        box: SecretBox,
        metrics: Metrics | None = None,
        *,
        batch_size: int = DEFAULT_BATCH,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.db, self.settings, self.client = db, settings, client
        self.sinks, self.box, self.metrics = sinks, box, metrics
        self.batch_size = batch_size
        self.owner = new_id("wrk")
        self._limit = asyncio.Semaphore(concurrency)
        lease_s = settings.delivery_lease_s
        self._pipeline: Pipeline[Claimed, Sent | None] = Pipeline(
            claim=self._claim, work=self._deliver, record=self._record, renew=self._renew,
            limits=PipelineLimits(batch_size, renew_every_s=lease_s / 3),
        )  # fmt: skip

    async def run_once(self) -> int:
        """One pipeline pass over due deliveries; how many were claimed."""
        return await self._pipeline.run_once()

    async def _claim(self, limit: int) -> list[Claimed]:
        rows = await claim_due(
            self.db, self.owner, lease_s=self.settings.delivery_lease_s, limit=limit
        )
        if not rows:
            return []
        rows.sort(key=lambda row: (row["due_at"], row["id"]))  # RETURNING has no order
        events = await rows_by_id(self.db, "events", sorted({r["event_id"] for r in rows}))
        subs = await rows_by_id(self.db, "subscribers", sorted({r["subscriber_id"] for r in rows}))
        targets = {sub_id: self._target(sub) for sub_id, sub in subs.items()}
        return [
            Claimed(row, events.get(row["event_id"]), targets.get(row["subscriber_id"]),
                    subs.get(row["subscriber_id"]))
            for row in rows
        ]  # fmt: skip

    async def _renew(self, items: list[Claimed]) -> None:
        ids = [item.delivery["id"] for item in items]
        await renew_leases(self.db, ids, self.owner, lease_s=self.settings.delivery_lease_s)

    def _target(self, sub: Row) -> Target:
        return target_for(sub, self.box, self.sinks[sub["kind"]])

    async def _deliver(self, item: Claimed) -> Sent | None:
        row, event, target, sub = item.delivery, item.event, item.target, item.subscriber
        if event is None or target is None or sub is None:  # removed meanwhile: nothing to send
            await defer(self.db, row["id"], self.owner, now_ms() + 60_000)
            return None
        sink = self.sinks[target.kind]
        wait = await self._pace(sink, target)
        if wait > 0:
            await defer(self.db, row["id"], self.owner, now_ms() + int(wait * 1000) + 1)
            return None
        async with self._limit:
            started, clock = now_ms(), time.monotonic()
            verdict = await self._send(sink, target, event)
            latency = int((time.monotonic() - clock) * 1000)
        return Sent(row, target, sub, verdict, started, latency, event["created_at"])

    async def _pace(self, sink: Sink, target: Target) -> float:
        """Seconds to wait before sending: this process's holds, then the shared window."""
        wait = sink.wait_s(target)
        if wait > 0 or sink.pace is None:
            return wait
        key, pace = f"sink:{target.subscriber_id}", sink.pace
        return await reserve_grant(self.db, key, pace.requests, pace.per_s, only_if_free=True)

    async def _send(self, sink: Sink, target: Target, event: Row) -> Verdict:
        body = event["payload"].encode()
        limit_s = self.settings.delivery_timeout_s
        return await sink.deliver(target, loads(event["payload"]), body, self.client, limit_s)

    async def _record(self, results: Sequence[Sent | None]) -> None:
        sent = [item for item in results if item is not None]
        if not sent:
            return

        async def apply_all(tx: Executor) -> list[tuple[Sent, str]]:
            return [(item, await self._apply(tx, item, item.subscriber)) for item in sent]

        outcomes = await self.db.run_transaction(apply_all)
        for item, outcome in outcomes:
            self._observe(item, outcome)

    async def _apply(self, tx: Executor, item: Sent, sub: Row) -> str:
        row, verdict, now = item.delivery, item.verdict, now_ms()
        outcome = self._next_state(item)
        await add_attempt(
            tx, row["id"], row["attempt_count"] + 1, started_at=item.started_at,
            status_code=verdict.status_code, latency_ms=item.latency_ms,
            outcome=outcome, error=verdict.error,
        )  # fmt: skip
        if outcome == "delivered":
            await mark_delivered(tx, row["id"], verdict.status_code or 0, now)
            await note_success(tx, sub["id"])
            return outcome
        due = self._due_at(item, now) if outcome == "retry" else None
        await mark_failed(
            tx, row["id"], self.owner, status_code=verdict.status_code,
            error=verdict.error, due_at=due,
        )  # fmt: skip
        if outcome == "dead":
            await note_exhausted(tx, row, sub, verdict.status_code, verdict.error)
        if outcome == "gone":
            reason = verdict.error or "the endpoint is gone"
            if await disable_subscriber(tx, sub, reason):
                log.warning("subscriber %s disabled: %s", sub["id"], reason)
        else:
            await self._maybe_disable(tx, sub, now)
        return outcome

    def _next_state(self, item: Sent) -> str:
        verdict = item.verdict
        if verdict.outcome in ("delivered", "gone"):
            return verdict.outcome
        attempts_made = item.delivery["attempt_count"] + 1
        if scheduled_delay_s(self.settings.delivery_retry_schedule_s, attempts_made) is None:
            return "dead"
        return "retry"

    def _due_at(self, item: Sent, now: int) -> int:
        delay = scheduled_delay_s(
            self.settings.delivery_retry_schedule_s,
            item.delivery["attempt_count"] + 1,
            retry_after_s=item.verdict.retry_after_s,
        )
        return now + int((delay or 0.0) * 1000)

    async def _maybe_disable(self, tx: Executor, sub: Row, now: int) -> None:
        since = await note_failure(tx, sub["id"], now)
        limit_ms = int(self.settings.subscriber_disable_after_s * 1000)
        if since is not None and now - since >= limit_ms:
            days = (now - since) / 86_400_000
            reason = f"every delivery failed for {days:.1f} days"
            if await disable_subscriber(tx, sub, reason):
                log.warning("subscriber %s disabled: %s", sub["id"], reason)

    def _observe(self, item: Sent, outcome: str) -> None:
        target, verdict = item.target, item.verdict
        where = redact_url(target.display_url)
        ids = {"delivery_id": item.delivery["id"], "event_id": item.delivery["event_id"],
               "subscriber_id": target.subscriber_id}  # fmt: skip
        if outcome == "delivered":
            log.debug("delivered %s to %s", item.delivery["id"], where, extra=ids)
        else:
            log.info(
                "delivery %s to %s (%s): %s -> %s", item.delivery["id"], where,
                target.subscriber_id, verdict.error, outcome, extra=ids,
            )  # fmt: skip
        if self.metrics is None:
            return
        self.metrics.deliveries.labels(target.kind, outcome).inc()
        if outcome == "delivered":
            latency_s = max(0.0, (now_ms() - item.event_created_at) / 1000)
            self.metrics.delivery_latency.labels(target.kind).observe(latency_s)
