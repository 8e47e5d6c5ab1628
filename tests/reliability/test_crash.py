"""Crash: kill -9 the server under a stream of signed callbacks, restart, lose nothing.

Every callback that got a 2xx is recorded, every recorded event reaches the subscriber,
and no task's event is delivered under two different webhook-ids.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.receiver.callback_helpers import kie_body, kie_headers
from tests.support import ADMIN_TOKEN, SECRET_KEY, free_port, live_server, wait_for

pytestmark = pytest.mark.slow
KEY = "crash-test-webhook-key"


def signed(task_id: str) -> tuple[bytes, dict[str, str]]:
    body = kie_body(task_id, character=f"char_{task_id}")
    headers = {"Content-Type": "application/json", **kie_headers(KEY, task_id)}
    return json.dumps(body).encode(), headers


def start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHOOK_")}
    env.update(
        TASKHOOK_KIE_WEBHOOK_KEY=KEY,
        TASKHOOK_ADMIN_TOKEN=ADMIN_TOKEN,
        TASKHOOK_SECRET_KEY=SECRET_KEY,
        TASKHOOK_KIE_CONFIRM_CALLBACKS="0",
        TASKHOOK_ALLOW_HTTP_SUBSCRIBERS="1",
        TASKHOOK_ALLOW_PRIVATE_SUBSCRIBERS="1",
    )
    cmd = [sys.executable, "-m", "dispatcher.cli", "serve", "--db", str(db), "--port", str(port)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as client:

        async def ready() -> bool:
            try:
                return (await client.get(f"{base}/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_for(ready, timeout_s=30)


async def stream(base: str, prefix: str, count: int, acked: list[str]) -> None:
    """Send callbacks until the server dies; remember every one that got a 2xx."""
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=5) as client:
        sem = asyncio.Semaphore(16)

        async def one(i: int) -> None:
            task_id = f"{prefix}_{i}"
            body, headers = signed(task_id)
            async with sem:
                try:
                    response = await client.post("/callbacks/kie", content=body, headers=headers)
                except httpx.TransportError:
                    return
            if response.status_code < 300:
                acked.append(task_id)

        await asyncio.gather(*(one(i) for i in range(count)))


async def test_kill_9_under_load_loses_nothing(tmp_path: Path) -> None:
    received: dict[str, list[str]] = defaultdict(list)  # provider task id -> webhook-ids

    async def hook(request: Request) -> Response:
        event = json.loads(await request.body())
        received[event["data"]["provider_task_id"]].append(request.headers["webhook-id"])
        return Response(status_code=204)

    subscriber = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    db, port = tmp_path / "crash.db", free_port()
    base = f"http://127.0.0.1:{port}"
    async with live_server(subscriber) as sub_url:
        proc = start_server(db, port)
        await wait_ready(base)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
            made = await c.post(
                f"{base}/api/subscribers", json={"url": f"{sub_url}/hook", "kind": "webhook"}
            )
            assert made.status_code == 201, made.text
        acked: list[str] = []
        sender = asyncio.create_task(stream(base, "crash", 3000, acked))
        await wait_for(lambda: len(acked) >= 300, timeout_s=60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        await sender
        assert acked, "no callback was acknowledged before the kill"
        proc = start_server(db, port)
        try:
            await wait_ready(base)
            await wait_for(lambda: set(acked) <= received.keys(), timeout_s=90)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    for task_id in acked:
        assert len(set(received[task_id])) == 1, f"{task_id} delivered under several ids"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT payload FROM events WHERE type = 'task.succeeded'").fetchall()
    recorded = {json.loads(p)["data"]["provider_task_id"] for (p,) in rows}
    assert set(acked) <= recorded
    assert recorded <= received.keys(), "a recorded event never reached the subscriber"
