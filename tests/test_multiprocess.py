"""Two `taskhook serve` processes on one PostgreSQL database: everything happens once.

Server A has a public URL (its tasks are in callback mode, the emulator calls A back);
server B has none (its tasks are polled, by whichever process claims them). Tasks are
submitted through both; every callback is also replayed, signed, to BOTH servers at the
same moment; some of B's tasks get no callback at all and must be found by polling.
Then: one terminal event per task, one inbox row per reported state, and every event
reaches the subscriber exactly once (counted by `webhook-id`) and is sent exactly once
(the two processes' delivery counters add up to the number of events).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatcher.emulator import EmulatorConfig, create_emulator_app, signature_headers
from receiver.db import Database, open_database
from receiver.statuses import TERMINAL_SQL
from tests.support import ADMIN_TOKEN, SECRET_KEY, free_port, live_server, wait_for

pytestmark = pytest.mark.slow

KIE_KEY = "multiprocess-kie-webhook-key-0123456789"
PER_SERVER = 8
POLL_ONLY = 4  # of B's tasks: no callback at all, found by polling
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class Hooks:
    """The webhook subscriber: counts every `webhook-id` it is sent."""

    ids: Counter[str] = field(default_factory=Counter)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.ids[request.headers["webhook-id"]] += 1
            await request.body()
            return Response("ok")

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@dataclass
class Server:
    name: str
    base: str
    proc: subprocess.Popen[bytes]
    log: Path


@contextmanager
def serve(name: str, env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    """One `taskhook serve` subprocess (workers on); SIGTERM at the end, must exit 0."""
    port = int(env["TASKHOOK_PORT"])
    log = tmp_path / f"{name}.log"
    full = {k: v for k, v in os.environ.items() if not k.startswith("TASKHOOK_")}
    full.update(env)
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dispatcher.cli", "serve"],
            cwd=tmp_path, env=full, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(name, f"http://127.0.0.1:{port}", proc, log)
    try:
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert code == 0, f"serve {name} exited {code}:\n{log.read_text()}"


async def wait_ready(server: Server) -> None:
    async def ready() -> bool:
        if server.proc.poll() is not None:
            raise AssertionError(f"serve {server.name} died:\n{server.log.read_text()}")
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{server.base}/readyz")).status_code == 200
        except httpx.TransportError:
            return False

    await wait_for(ready, timeout_s=30)


def server_env(db_url: str, emulator: str, port: int, public: bool) -> dict[str, str]:
    env = {
        "TASKHOOK_DB": db_url,
        "TASKHOOK_PORT": str(port),
        "TASKHOOK_ADMIN_TOKEN": ADMIN_TOKEN,
        "TASKHOOK_SECRET_KEY": SECRET_KEY,
        "TASKHOOK_KIE_BASE_URL": emulator,
        "TASKHOOK_KIE_API_KEY": "emulator-key-0123456789",
        "TASKHOOK_KIE_WEBHOOK_KEY": KIE_KEY,
        "TASKHOOK_KIE_RATE_LIMIT": "1000/1",
        "TASKHOOK_ALLOW_HTTP_SUBSCRIBERS": "1",
        "TASKHOOK_ALLOW_PRIVATE_SUBSCRIBERS": "1",
        "TASKHOOK_LOG_FORMAT": "json",
    }
    if public:
        env["TASKHOOK_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    return env


@asynccontextmanager
async def providers() -> AsyncIterator[tuple[str, str, Hooks]]:
    """The emulator (tasks finish only when the test says so) and the subscriber."""
    hooks = Hooks()
    emulator = create_emulator_app(EmulatorConfig(delay_s=600.0, kie_webhook_key=KIE_KEY))
    async with live_server(emulator) as emu, live_server(hooks.app()) as hook_base:
        yield emu, f"{hook_base}/hook", hooks


async def submit(client: httpx.AsyncClient, server: Server, n: int) -> list[dict[str, Any]]:
    async def one(i: int) -> dict[str, Any]:
        body = {
            "provider": "kie",
            "model": "sora-2-characters",
            "input": {"character_file_url": [f"https://example.com/{server.name}-{i}.mp4"]},
        }
        response = await client.post(f"{server.base}/api/tasks", json=body, headers=AUTH)
        assert response.status_code == 202, response.text
        task: dict[str, Any] = response.json()
        assert task["provider_task_id"], task
        return task

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def finish_and_replay(
    client: httpx.AsyncClient, emu: str, task: dict[str, Any], servers: list[Server]
) -> list[int]:
    """Finish the task at the emulator, then send its signed callback to every server at once."""
    ptid = task["provider_task_id"]
    assert (await client.post(f"{emu}/_emulator/tasks/{ptid}/finish")).status_code == 200
    record = await client.get(
        f"{emu}/api/v1/jobs/recordInfo",
        params={"taskId": ptid},
        headers={"Authorization": "Bearer k"},
    )
    data = record.json()["data"]
    ok = data["state"] == "success"
    body = {"code": 200 if ok else 501, "msg": "success" if ok else data["failMsg"], "data": data}
    sends = [
        client.post(f"{s.base}/callbacks/kie", json=body, headers=signature_headers(KIE_KEY, ptid))
        for s in servers
    ]
    return [r.status_code for r in await asyncio.gather(*sends)]


async def delivered_counts(client: httpx.AsyncClient, server: Server) -> float:
    text = (await client.get(f"{server.base}/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "taskhook_deliveries_total" and sample.labels == {
                "kind": "webhook",
                "outcome": "delivered",
            }:
                return sample.value
    return 0.0


async def count(db: Database, sql: str, *args: Any) -> int:
    row = await db.fetchone(sql, *args)
    return int(row["n"]) if row else 0


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_two_serve_processes_record_and_deliver_everything_once(
    db_url: str, tmp_path: Path
) -> None:
    async with providers() as (emu, hook_url, hooks), httpx.AsyncClient(timeout=30) as client:
        port_a = free_port()
        port_b = next(p for p in iter(free_port, None) if p != port_a)
        with (
            serve("a", server_env(db_url, emu, port_a, public=True), tmp_path) as a,
            serve("b", server_env(db_url, emu, port_b, public=False), tmp_path) as b,
        ):
            await asyncio.gather(wait_ready(a), wait_ready(b))
            sub = await client.post(
                f"{a.base}/api/subscribers", json={"url": hook_url, "kind": "webhook"}, headers=AUTH
            )
            assert sub.status_code == 201, sub.text
            via_a, via_b = await asyncio.gather(submit(client, a, PER_SERVER),
                                                submit(client, b, PER_SERVER))  # fmt: skip
            assert {t["mode"] for t in via_a} == {"callback"}
            assert {t["mode"] for t in via_b} == {"poll"}
            replayed = via_a + via_b[POLL_ONLY:]
            poll_only = via_b[:POLL_ONLY]
            statuses = await asyncio.gather(
                *(finish_and_replay(client, emu, t, [a, b]) for t in replayed)
            )
            assert all(code == 200 for codes in statuses for code in codes), statuses
            for task in poll_only:
                ptid = task["provider_task_id"]
                assert (await client.post(f"{emu}/_emulator/tasks/{ptid}/finish")).is_success

            total = 2 * PER_SERVER
            db = await open_database(db_url, pool_size=2)
            try:
                await wait_for(
                    lambda: _all_delivered(db, hooks, total), timeout_s=60, interval_s=0.2
                )
                await asyncio.sleep(1.5)  # room for a late duplicate to show up
                await _assert_once(db, hooks, total, replayed, poll_only)
            finally:
                await db.close()
            sent = [await delivered_counts(client, s) for s in (a, b)]
        assert sum(sent) == total, f"deliveries sent per process: {sent}"


async def _all_delivered(db: Database, hooks: Hooks, total: int) -> bool:
    done = await count(db, f"SELECT COUNT(*) AS n FROM tasks WHERE {TERMINAL_SQL}")
    return done == total and len(hooks.ids) >= total


async def _assert_once(
    db: Database,
    hooks: Hooks,
    total: int,
    replayed: list[dict[str, Any]],
    poll_only: list[dict[str, Any]],
) -> None:
    events = await db.fetchall("SELECT id, task_id, source FROM events WHERE task_id IS NOT NULL")
    assert len(events) == total and len({e["task_id"] for e in events}) == total
    completions = await count(
        db, "SELECT COUNT(*) AS n FROM task_history WHERE kind = 'completion'"
    )
    assert completions == total
    source = {e["task_id"]: e["source"] for e in events}
    assert {source[t["id"]] for t in replayed} == {"callback"}
    assert {source[t["id"]] for t in poll_only} == {"poll"}
    # one inbox row per task and reported state, however many copies arrived where
    assert await count(db, "SELECT COUNT(*) AS n FROM inbox") == len(replayed)
    assert await count(db, "SELECT COUNT(*) AS n FROM inbox WHERE processed_at IS NULL") == 0
    # every event reached the subscriber exactly once, and each delivery took one attempt
    assert dict(hooks.ids) == {e["id"]: 1 for e in events}
    rows = await db.fetchall("SELECT state, attempt_count FROM deliveries")
    assert [(r["state"], r["attempt_count"]) for r in rows] == [("delivered", 1)] * total
