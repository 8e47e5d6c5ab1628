"""Serverless mode: no background workers; `taskhook tick` / `POST /api/tick` do the work.

The provider is the project's emulator and the subscriber a local webhook server, both on
loopback; the app runs with `TASKHOOK_WORKERS=0` throughout.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatcher.compose import build_app
from dispatcher.emulator import EmulatorConfig, create_emulator_app
from receiver.clock import now_ms
from receiver.settings import Settings
from tests.cli_support import Ran, taskhook
from tests.support import ADMIN_TOKEN, SECRET_KEY, app_client, free_port, live_server, wait_for

KIE_TASK = {
    "provider": "kie",
    "model": "sora-2-characters",
    "input": {"character_file_url": ["https://example.com/clip.mp4"]},
}


@dataclass
class Hooks:
    """A webhook subscriber that records the `webhook-id` and body of every message."""

    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.received.append((request.headers["webhook-id"], json.loads(await request.body())))
            return Response("ok")

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@asynccontextmanager
async def world(tmp_path: Path, **extra_env: str) -> AsyncIterator[tuple[dict[str, str], Hooks]]:
    """The emulator and a subscriber on loopback, and the environment taskhook runs with."""
    hooks = Hooks()
    emulator = create_emulator_app(EmulatorConfig(delay_s=30.0))  # finished by hand
    async with live_server(emulator) as emu, live_server(hooks.app()) as hook_base:
        env = {
            "TASKHOOK_DB": str(tmp_path / "taskhook.db"),
            "TASKHOOK_ADMIN_TOKEN": ADMIN_TOKEN,
            "TASKHOOK_SECRET_KEY": SECRET_KEY,
            "TASKHOOK_WORKERS": "0",
            "TASKHOOK_KIE_BASE_URL": emu,
            "TASKHOOK_KIE_API_KEY": "emulator-key-0123456789",
            "TASKHOOK_ALLOW_HTTP_SUBSCRIBERS": "1",
            "TASKHOOK_ALLOW_PRIVATE_SUBSCRIBERS": "1",
            "EMULATOR": emu,
            "HOOK_URL": f"{hook_base}/hook",
            **extra_env,
        }
        yield env, hooks


async def finish_at_provider(env: dict[str, str], provider_task_id: str) -> None:
    async with httpx.AsyncClient(base_url=env["EMULATOR"]) as emu:
        done = await emu.post(f"/_emulator/tasks/{provider_task_id}/finish")
        assert done.status_code == 200, done.text


async def prepare(client: httpx.AsyncClient, env: dict[str, str]) -> dict[str, Any]:
    """A webhook subscriber, then one kie task submitted (and sent) through the API."""
    sub = await client.post("/api/subscribers", json={"url": env["HOOK_URL"], "kind": "webhook"})
    assert sub.status_code == 201, sub.text
    accepted = await client.post("/api/tasks", json=KIE_TASK)
    assert accepted.status_code == 202, accepted.text
    task: dict[str, Any] = accepted.json()
    assert task["provider_task_id"], "the API sends the task at once"
    return task


def run_cli(env: dict[str, str], *args: str) -> Ran:
    """`taskhook ARGS` with the TASKHOOK_* part of `env` (in-process: call it on a thread)."""
    return taskhook(*args, env={k: v for k, v in env.items() if k.startswith("TASKHOOK_")})


async def outcome(client: httpx.AsyncClient, task_id: str) -> tuple[str, list[dict[str, Any]]]:
    task = (await client.get(f"/api/tasks/{task_id}")).json()
    events = (await client.get("/api/events", params={"task_id": task_id})).json()["items"]
    return task["status"], events


async def test_taskhook_tick_completes_a_task_and_delivers_its_event(tmp_path: Path) -> None:
    async with world(tmp_path) as (env, hooks):
        settings = Settings.from_env(env)
        assert settings.workers is False and settings.public_url is None  # poll mode
        app = build_app(settings)
        async with app_client(app) as client:
            task = await prepare(client, env)
            await finish_at_provider(env, task["provider_task_id"])
            # the first poll falls due after poll_min_interval_s; bring it forward
            await app.state.runtime.db.execute(
                "UPDATE tasks SET next_poll_at = ? WHERE id = ?", now_ms(), task["id"]
            )
            await asyncio.sleep(0.3)
            assert await outcome(client, task["id"]) == ("submitted", [])  # nothing runs

        ticked = await asyncio.to_thread(run_cli, env, "tick", "--json")
        assert ticked.returncode == 0, ticked.stderr
        counts = json.loads(ticked.stdout)
        assert counts["failed"] == []
        assert counts["handled"]["poller"] == 1 and counts["handled"]["deliveries"] == 1

        async with app_client(build_app(settings)) as client:
            status, events = await outcome(client, task["id"])
        assert status == "succeeded" and len(events) == 1
        assert hooks.received == [(events[0]["id"], events[0])]

        again = await asyncio.to_thread(run_cli, env, "tick")
        assert again.returncode == 0 and "0 item(s) handled" in again.stdout
        assert len(hooks.received) == 1


async def test_api_tick_processes_a_callback_and_delivers_once(tmp_path: Path) -> None:
    port = free_port()
    async with world(tmp_path, TASKHOOK_PUBLIC_URL=f"http://127.0.0.1:{port}") as (env, hooks):
        app = build_app(Settings.from_env(env))
        async with (
            live_server(app, port) as base,
            httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
            ) as client,
        ):
            task = await prepare(client, env)
            assert task["mode"] == "callback"
            await finish_at_provider(env, task["provider_task_id"])

            async def callback_sent() -> bool:
                async with httpx.AsyncClient(base_url=env["EMULATOR"]) as emu:
                    stats = (await emu.get("/_emulator/stats")).json()
                return bool(stats["callbacks"]["sent"] == 1)

            await wait_for(callback_sent)
            ticked = await client.post("/api/tick")
            assert ticked.status_code == 200 and ticked.json()["failed"] == []

            async def delivered() -> bool:
                status, _ = await outcome(client, task["id"])
                return status == "succeeded" and len(hooks.received) == 1

            await wait_for(delivered)
            status, events = await outcome(client, task["id"])
            assert status == "succeeded" and len(events) == 1
            assert events[0]["data"]["source"] == "callback"
            assert (await client.post("/api/tick")).json()["total"] == 0
        assert hooks.received == [(events[0]["id"], events[0])]
