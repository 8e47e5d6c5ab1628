"""1000 events to 5 subscribers, two workers sharing the queue: each arrives exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from receiver.db import Database
from receiver.settings import Settings
from receiver.store import Outcome
from receiver.store.completion import record_completion_in
from receiver.store.tasks import NewTask, insert_task
from tests.receiver.fanout_support import Recorder, fanout, fast_settings
from tests.support import live_server

EVENTS = 1000
SUBSCRIBERS = 5


async def _make_events(db: Database, n: int) -> list[str]:
    ids = []
    for _ in range(n // 50):
        tasks = [
            await insert_task(db, NewTask("kie", "sora-2", {"prompt": "p"})) for _ in range(50)
        ]
        async with db.transaction() as tx:
            for task in tasks:
                event = await record_completion_in(tx, Outcome(task["id"], "succeeded", "poll"))
                assert event is not None
                ids.append(event["id"])
    return ids


@pytest.mark.slow
async def test_thousand_events_five_subscribers_exactly_once(db: Database, settings: Settings):
    # a generous timeout: 5,000 deliveries share this one event loop with the recorder, and
    # a request that waited over 2 s for a pooled connection on a loaded machine would be a
    # (correct) failed attempt and retry, not the exactly-once this test is about
    settings = fast_settings(settings, delivery_timeout_s=30.0)
    recorder = Recorder()
    async with (
        live_server(recorder.app()) as base,
        fanout(db, settings) as one,
        fanout(db, settings) as two,
    ):
        for i in range(SUBSCRIBERS):
            await one.subs.create(f"{base}/s{i}", "webhook")
        event_ids = await _make_events(db, EVENTS)

        async def work(fo) -> None:  # type: ignore[no-untyped-def]
            while len(recorder.received) < EVENTS * SUBSCRIBERS:
                if await fo.worker.run_once() == 0:
                    await asyncio.sleep(0.01)

        await asyncio.wait_for(asyncio.gather(work(one), work(two)), timeout=100)
        assert await one.worker.run_once() == 0 and await two.worker.run_once() == 0
    for i in range(SUBSCRIBERS):
        counts = Counter(r.headers["webhook-id"] for r in recorder.on(f"/s{i}"))
        assert set(counts) == set(event_ids) and set(counts.values()) == {1}
    rows = await db.fetchall("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state")
    assert [(r["state"], r["n"]) for r in rows] == [("delivered", EVENTS * SUBSCRIBERS)]
    attempts = await db.fetchone("SELECT COUNT(*) AS n FROM attempts")
    assert attempts is not None and attempts["n"] == EVENTS * SUBSCRIBERS
