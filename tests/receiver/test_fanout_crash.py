"""`kill -9` of a delivery process mid-delivery, then a restart: nothing is lost, and a
message sent twice carries the same webhook-id (and signature scheme) both times."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from standardwebhooks.webhooks import Webhook
from starlette.requests import Request
from starlette.responses import Response

from receiver.db import Database
from receiver.settings import Settings
from tests.receiver.fanout_support import Recorder, complete, delivery_states, fanout, fast_settings
from tests.support import live_server

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 20
KILL_AT = 5


async def _spawn(db_url: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.receiver.fanout_child", db_url,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
    assert line.strip() == b"ready"
    return proc


async def test_kill_9_mid_delivery_then_restart_loses_nothing(
    db: Database, settings: Settings, db_url: str
) -> None:
    settings = fast_settings(settings)
    victim: dict[str, asyncio.subprocess.Process] = {}

    def behaviour(n: int, _r: Request) -> Response:
        if n == KILL_AT - 1:
            os.kill(victim["proc"].pid, signal.SIGKILL)  # sent, never recorded
        return Response("ok")

    recorder = Recorder(behaviour)
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        sub = await fo.subs.create(f"{base}/hook", "webhook")
        events = [await complete(db) for _ in range(EVENTS)]
        victim["proc"] = await _spawn(db_url)
        assert await asyncio.wait_for(victim["proc"].wait(), timeout=30) == -signal.SIGKILL
        before = len(recorder.received)
        assert await delivery_states(db) == ["pending"] * EVENTS  # none recorded as delivered
        survivor = await _spawn(db_url)
        try:
            for _ in range(600):
                if await delivery_states(db) == ["delivered"] * EVENTS:
                    break
                await asyncio.sleep(0.05)
        finally:
            survivor.kill()
            await survivor.wait()
    assert await delivery_states(db) == ["delivered"] * EVENTS
    counts = Counter(r.headers["webhook-id"] for r in recorder.received)
    assert set(counts) == {e["id"] for e in events}  # nothing lost
    assert KILL_AT <= before and max(counts.values()) == 2  # the in-flight ones came twice
    assert sum(1 for c in counts.values() if c == 2) >= KILL_AT
    verifier = Webhook(sub["secret"])
    for message in recorder.received:
        body = verifier.verify(message.body, message.headers)
        assert body["id"] == message.headers["webhook-id"]  # a duplicate is recognisable
