"""Test events: send one signed `taskhook.test` event to one subscriber and report the answer.

Nothing is stored and the retry queue is not touched: the operator sees at once what the
endpoint said (status, latency, the first bytes of its body), whatever the subscriber's state.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from receiver.clock import now_ms, rfc3339
from receiver.db import Row
from receiver.fanout.sinks import Sink, build_sinks, close_sinks
from receiver.fanout.sinks.base import excerpt
from receiver.fanout.ssrf import UrlGuard
from receiver.fanout.targets import target_for
from receiver.ids import new_id
from receiver.secretbox import SecretBox
from receiver.store.jsonutil import dumps

TEST_EVENT = "taskhook.test"


@dataclass(frozen=True)
class ProbeResult:
    """What the endpoint said to one test event."""

    event_id: str
    delivered: bool
    status_code: int | None
    latency_ms: int
    body_head: str
    error: str | None

    def to_api(self) -> dict[str, Any]:
        """The JSON answer."""
        return asdict(self)


def make_test_event(sub_id: str) -> dict[str, Any]:
    """The `taskhook.test` event object (signed and shaped like every other event)."""
    data = {"subscriber_id": sub_id, "message": "a test event from taskhook; no task involved"}
    return {"type": TEST_EVENT, "id": new_id("evt"), "created_at": rfc3339(now_ms()), "data": data}


async def send_test_event(
    sub: Row, box: SecretBox, guard: UrlGuard, client: httpx.AsyncClient, timeout_s: float
) -> ProbeResult:
    """Send one test event to `sub` now, through its sink as a delivery goes, and report.

    Fresh sinks (their own broker connections, closed after): nothing the workers hold.
    """
    sinks = build_sinks(guard)
    try:
        return await _probe(sinks[sub["kind"]], sub, box, client, timeout_s)
    finally:
        await close_sinks(sinks)


async def _probe(
    sink: Sink, sub: Row, box: SecretBox, client: httpx.AsyncClient, timeout_s: float
) -> ProbeResult:
    event, target = make_test_event(sub["id"]), target_for(sub, box, sink)
    started = time.monotonic()
    verdict = await sink.deliver(target, event, dumps(event).encode(), client, timeout_s)
    latency = int((time.monotonic() - started) * 1000)
    delivered = verdict.outcome == "delivered"
    return ProbeResult(
        event["id"], delivered, verdict.status_code, latency, excerpt(verdict.head), verdict.error
    )
