"""Subscribers that fail in every documented way: retries, dead letters, disabling."""

from __future__ import annotations

import asyncio
import itertools
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from receiver.db import Database
from receiver.settings import Settings
from receiver.store.jsonutil import loads
from tests.receiver.fanout_support import Recorder, complete, delivery_states, fanout, fast_settings
from tests.support import live_server


async def _attempts(db: Database) -> list[dict[str, object]]:
    return await db.fetchall(
        "SELECT attempt_no, status_code, outcome, error, latency_ms FROM attempts ORDER BY id"
    )


async def test_500s_are_retried_on_the_schedule_then_dead(db: Database, settings: Settings):
    settings = fast_settings(settings)
    recorder = Recorder(lambda _n, _r: Response("boom", 500))
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        await fo.subs.create(f"{base}/hook", "webhook")
        event = await complete(db)
        await fo.drain(lambda: len(recorder.received) >= 3)
        await fo.drain(lambda: _is_dead(db))
        await asyncio.sleep(0.2)
        assert await fo.worker.run_once() == 0  # dead: never tried again
    assert len(recorder.received) == 3
    assert {r.headers["webhook-id"] for r in recorder.received} == {event["id"]}
    gaps = [b.at - a.at for a, b in itertools.pairwise(recorder.received)]
    assert gaps[0] >= 0.05 * 0.8 and gaps[1] >= 0.1 * 0.8  # the schedule (with jitter)
    attempts = await _attempts(db)
    assert [a["outcome"] for a in attempts] == ["retry", "retry", "dead"]
    assert [a["status_code"] for a in attempts] == [500, 500, 500]
    assert all("HTTP 500" in str(a["error"]) and "boom" in str(a["error"]) for a in attempts)
    assert fo.metrics.deliveries.labels("webhook", "dead")._value.get() == 1


async def _is_dead(db: Database) -> bool:
    return await delivery_states(db) == ["dead"]


async def test_recovers_after_failures_and_clears_failing_state(db: Database, settings: Settings):
    settings = fast_settings(settings)
    recorder = Recorder(lambda n, _r: Response("no", 503) if n < 2 else Response("ok"))
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        sub = await fo.subs.create(f"{base}/hook", "webhook")
        await complete(db)
        await fo.drain(lambda: len(recorder.received) >= 1)
        row = await fo.subs.get(sub["id"])
        assert row["failing_since"] is not None
        await fo.drain(lambda: _states_are(db, ["delivered"]))
        assert (await fo.subs.get(sub["id"]))["failing_since"] is None
    assert [a["outcome"] for a in await _attempts(db)] == ["retry", "retry", "delivered"]


async def _states_are(db: Database, states: list[str]) -> bool:
    return await delivery_states(db) == states


async def test_timeout_is_a_failure(db: Database, settings: Settings):
    settings = fast_settings(settings, delivery_timeout_s=0.2)

    async def slow(n: int, _r: Request) -> Response:
        if n == 0:
            await asyncio.sleep(1.0)
        return Response("ok")

    recorder = Recorder(slow)
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        await fo.subs.create(f"{base}/hook", "webhook")
        await complete(db)
        await fo.drain(lambda: _states_are(db, ["delivered"]))
    attempts = await _attempts(db)
    assert attempts[0]["outcome"] == "retry" and "timeout" in str(attempts[0]["error"]).lower()
    assert attempts[0]["status_code"] is None and int(attempts[0]["latency_ms"]) < 900
    assert attempts[1]["outcome"] == "delivered"


async def test_429_retry_after_is_honoured(db: Database, settings: Settings):
    settings = fast_settings(settings)
    recorder = Recorder(
        lambda n, _r: Response("slow down", 429, {"Retry-After": "1"}) if n == 0 else Response()
    )
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        await fo.subs.create(f"{base}/hook", "webhook")
        await complete(db)
        await fo.drain(lambda: _states_are(db, ["delivered"]))
    first, second = recorder.received
    assert second.at - first.at >= 0.9  # not the 0.05 s of the schedule


async def test_410_disables_the_subscriber_and_emits_an_event(db: Database, settings: Settings):
    settings = fast_settings(settings)
    gone = Recorder(lambda _n, _r: Response("gone", 410))
    watcher = Recorder()
    async with (
        live_server(gone.app()) as gone_base,
        live_server(watcher.app()) as watch_base,
        fanout(db, settings, batch_size=1) as fo,
    ):
        sub = await fo.subs.create(f"{gone_base}/hook", "webhook")
        await fo.subs.create(f"{watch_base}/w", "webhook", {"type": ["subscriber.disabled"]})
        await complete(db)
        await complete(db)
        await fo.drain(lambda: len(watcher.received) >= 1)
        row = await fo.subs.get(sub["id"])
    assert len(gone.received) == 1  # the second event is dead-lettered, not sent
    assert row["enabled"] == 0 and "410" in row["disabled_reason"]
    event = loads(watcher.received[0].body)
    assert event["type"] == "subscriber.disabled"
    assert event["data"]["subscriber_id"] == sub["id"] and "410" in event["data"]["reason"]
    states = await db.fetchall(
        "SELECT state FROM deliveries WHERE subscriber_id = ? ORDER BY id", sub["id"]
    )
    assert [s["state"] for s in states] == ["dead", "dead"]


async def test_redirects_are_not_followed(db: Database, settings: Settings):
    settings = fast_settings(settings)
    recorder = Recorder(
        lambda _n, r: RedirectResponse("/elsewhere", 307) if r.url.path == "/hook" else Response()
    )
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        await fo.subs.create(f"{base}/hook", "webhook")
        await complete(db)
        await fo.drain(lambda: _states_are(db, ["dead"]))
    assert recorder.on("/elsewhere") == [] and len(recorder.on("/hook")) == 3
    attempts = await _attempts(db)
    assert attempts[0]["status_code"] == 307 and "redirect" in str(attempts[0]["error"])


@asynccontextmanager
async def resetting_server() -> AsyncIterator[tuple[str, list[int]]]:
    """A TCP server that resets every connection after reading the request head."""
    hits: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        hits.append(1)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", hits
    finally:
        server.close()
        await server.wait_closed()


async def test_connection_reset_is_retried_then_dead(db: Database, settings: Settings):
    settings = fast_settings(settings)
    async with resetting_server() as (base, hits), fanout(db, settings) as fo:
        await fo.subs.create(f"{base}/hook", "webhook")
        await complete(db)
        await fo.drain(lambda: _states_are(db, ["dead"]))
    assert len(hits) == 3
    attempts = await _attempts(db)
    assert [a["outcome"] for a in attempts] == ["retry", "retry", "dead"]
    assert all(a["status_code"] is None and a["error"] for a in attempts)


async def test_failing_for_the_configured_span_disables(db: Database, settings: Settings):
    settings = fast_settings(
        settings, subscriber_disable_after_s=0.3, delivery_retry_schedule_s=(0,) + (0.05,) * 30
    )
    recorder = Recorder(lambda _n, _r: Response("down", 500))
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        sub = await fo.subs.create(f"{base}/hook", "webhook")
        await complete(db)
        await fo.drain(lambda: _disabled(fo, sub["id"]))
    row = await db.fetchone("SELECT * FROM subscribers WHERE id = ?", sub["id"])
    assert row is not None and row["enabled"] == 0 and "failed for" in row["disabled_reason"]
    assert 3 <= len(recorder.received) < 30
    event = await db.fetchone("SELECT payload FROM events WHERE type = 'subscriber.disabled'")
    assert event is not None and loads(event["payload"])["data"]["subscriber_id"] == sub["id"]


async def _disabled(fo, sub_id: str) -> bool:  # type: ignore[no-untyped-def]
    return (await fo.subs.get(sub_id))["enabled"] == 0


async def test_paused_subscribers_wait_and_resume(db: Database, settings: Settings):
    settings = fast_settings(settings)
    recorder = Recorder()
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        sub = await fo.subs.create(f"{base}/hook", "webhook")
        await fo.subs.update(sub["id"], {"paused": True})
        await complete(db)
        for _ in range(5):
            assert await fo.worker.run_once() == 0
        assert recorder.received == [] and await _attempts(db) == []
        await fo.subs.update(sub["id"], {"paused": False})
        await fo.drain(lambda: _states_are(db, ["delivered"]))
    assert len(recorder.received) == 1
