"""Test events: send one signed `taskhook.test` event to one subscriber and report the answer.

Nothing is stored and the retry queue is not touched: the operator sees at once what the
endpoint said (status, latency, the first bytes of its body), whatever the subscriber's state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from receiver.clock import now_ms, rfc3339
from receiver.db import Row
from receiver.fanout.sinks import Sink
from receiver.fanout.sinks.base import excerpt
from receiver.fanout.targets import target_for
from receiver.ids import new_id
from receiver.secretbox import SecretBox
from receiver.store.jsonutil import dumps

TEST_EVENT = "taskhook.test"
HEAD_BYTES = 2048


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
    sub: Row, box: SecretBox, sinks: Mapping[str, Sink], client: httpx.AsyncClient,
    timeout_s: float,
) -> ProbeResult:  # fmt: skip
    """Send one test event to `sub` now and report its answer."""
    sink = sinks[sub["kind"]]
    event, target = make_test_event(sub["id"]), target_for(sub, box, sink)
    request = sink.build(target, event, dumps(event).encode())
    started = time.monotonic()
    answer = await _exchange(client, request, timeout_s)
    latency = int((time.monotonic() - started) * 1000)
    if isinstance(answer, str):
        return ProbeResult(event["id"], False, None, latency, "", answer)
    verdict = sink.judge(target, answer.status_code, answer.headers, answer.head)
    delivered = verdict.outcome == "delivered"
    return ProbeResult(
        event["id"], delivered, answer.status_code, latency, excerpt(answer.head), verdict.error
    )


@dataclass(frozen=True)
class _Answer:
    status_code: int
    headers: httpx.Headers
    head: bytes


async def _exchange(
    client: httpx.AsyncClient, request: httpx.Request, timeout_s: float
) -> _Answer | str:
    """The answer, or the error text when there was none."""
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.send(request, stream=True)
            try:
                head = b""
                async for chunk in response.aiter_bytes():
                    head += chunk
                    if len(head) >= HEAD_BYTES:
                        break
            finally:
                await response.aclose()
    except TimeoutError:
        return f"timeout: no complete answer within {timeout_s:g}s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return _Answer(response.status_code, response.headers, head[:HEAD_BYTES])
