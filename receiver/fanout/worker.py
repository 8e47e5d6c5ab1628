"""The delivery worker: claim due deliveries with a lease, send, record what happened.

One pass (`run_once`): lease a batch, send them concurrently, then record every
attempt and its outcome in one transaction. A crash after sending but before
recording leaves the lease to expire; the message is then sent again with the same
`webhook-id` (at-least-once). Paused subscribers' deliveries are not claimed.
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
from receiver.fanout.schedule import next_delay_s
from receiver.fanout.sinks import Sink, Target, Verdict
from receiver.fanout.sinks.broker import BrokerSink, publish_within
from receiver.ids import new_id
from receiver.metrics import Metrics
from receiver.secretbox import SecretBox
from receiver.settings import Settings
from receiver.store.deliveries import (
    add_attempt,
    claim_due,
    defer,
    disable_subscriber,
    mark_delivered,
    mark_failed,
    rows_by_id,
)
from receiver.store.jsonutil import loads
from receiver.store.subscribers import note_failure, note_success, redact_url

log = logging.getLogger(__name__)

BODY_EXCERPT_BYTES = 2048
# One batch is sent in one wave (batch <= concurrency), so even a batch of timeouts
# is recorded within delivery_timeout_s, well inside the lease.
DEFAULT_BATCH = 32
DEFAULT_CONCURRENCY = 32


@dataclass(frozen=True)
class Sent:
    """One attempt made: what was sent where, and what came of it."""

    delivery: Row
    target: Target
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

    async def run_once(self) -> int:
        """Claim one batch, deliver it, record the outcomes; how many were claimed."""
        rows = await claim_due(
            self.db, self.owner, lease_s=self.settings.delivery_lease_s, limit=self.batch_size
        )
        if not rows:
            return 0
        rows.sort(key=lambda row: (row["due_at"], row["id"]))  # RETURNING has no order
        events = await rows_by_id(self.db, "events", sorted({r["event_id"] for r in rows}))
        subs = await rows_by_id(self.db, "subscribers", sorted({r["subscriber_id"] for r in rows}))
        targets = {sub_id: self._target(sub) for sub_id, sub in subs.items()}
        results = await asyncio.gather(
            *(self._deliver(row, events.get(row["event_id"]), targets.get(row["subscriber_id"]))
              for row in rows)
        )  # fmt: skip
        sent = [r for r in results if r is not None]
        await self._record(sent, subs)
        return len(rows)

    def _target(self, sub: Row) -> Target:
        now = now_ms()
        secrets: list[str] = []
        url = sub["url"]
        if sub["secret_enc"]:
            plain = self.box.decrypt(sub["secret_enc"], sub["id"])
            if self.sinks[sub["kind"]].url_is_secret:
                url = plain
            else:
                secrets.append(plain)
        if sub["old_secret_enc"] and (sub["old_secret_until"] or 0) > now:
            secrets.append(self.box.decrypt(sub["old_secret_enc"], sub["id"]))
        return Target(sub["id"], sub["kind"], url, sub["url"], tuple(secrets))

    async def _deliver(self, row: Row, event: Row | None, target: Target | None) -> Sent | None:
        if event is None or target is None:  # removed meanwhile: nothing to send
            await defer(self.db, row["id"], self.owner, now_ms() + 60_000)
            return None
        sink = self.sinks[target.kind]
        wait = sink.wait_s(target)
        if wait > 0:
            await defer(self.db, row["id"], self.owner, now_ms() + int(wait * 1000) + 1)
            return None
        async with self._limit:
            started, clock = now_ms(), time.monotonic()
            verdict = await self._send(sink, target, event)
            latency = int((time.monotonic() - clock) * 1000)
        return Sent(row, target, verdict, started, latency, event["created_at"])

    async def _send(self, sink: Sink, target: Target, event: Row) -> Verdict:
        body = event["payload"].encode()
        if isinstance(sink, BrokerSink):  # redis / nats / amqp: published, not POSTed
            return await publish_within(
                sink, target, loads(event["payload"]), body, self.settings.delivery_timeout_s
            )
        request = sink.build(target, loads(event["payload"]), body)
        limit_s = self.settings.delivery_timeout_s
        try:
            # the client's timeout bounds each read; this bounds the whole attempt (a
            # subscriber trickling its answer byte by byte would otherwise hold it forever)
            async with asyncio.timeout(limit_s):
                response = await self.client.send(request, stream=True)
                try:
                    head = await _read_head(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            return Verdict("failed", None, f"timeout: no complete answer within {limit_s:g}s")
        except httpx.TimeoutException as exc:
            return Verdict("failed", None, f"timeout: {type(exc).__name__} {exc}".strip())
        except httpx.HTTPError as exc:
            return Verdict("failed", None, f"{type(exc).__name__}: {exc}")
        return sink.judge(target, response.status_code, response.headers, head)

    async def _record(self, sent: Sequence[Sent], subs: Mapping[str, Row]) -> None:
        if not sent:
            return
        outcomes: list[tuple[Sent, str]] = []
        async with self.db.transaction() as tx:
            for item in sent:
                outcome = await self._apply(tx, item, subs[item.target.subscriber_id])
                outcomes.append((item, outcome))
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
        if next_delay_s(self.settings.delivery_retry_schedule_s, attempts_made) is None:
            return "dead"
        return "retry"

    def _due_at(self, item: Sent, now: int) -> int:
        delay = next_delay_s(
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


async def _read_head(response: httpx.Response) -> bytes:
    """The first bytes of a response body (the rest is not needed)."""
    head = b""
    async for chunk in response.aiter_bytes():
        head += chunk
        if len(head) >= BODY_EXCERPT_BYTES:
            break
    return head[:BODY_EXCERPT_BYTES]
