"""An app with the dispatcher on scripted adapters, workers driven by hand (`tick`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from dispatcher.dispatch_part import DispatchPart
from receiver.app import create_app
from receiver.clock import Clock, ManualClock
from receiver.db import Database
from receiver.runtime import Runtime
from receiver.settings import Settings
from tests.dispatcher.fake_adapter import FakeAdapter
from tests.support import app_client

FAST = {"poll_min_interval_s": 0.01, "poll_max_interval_s": 0.05}


@dataclass
class Harness:
    client: httpx.AsyncClient
    runtime: Runtime
    adapter: FakeAdapter

    async def submit(self, body: dict[str, object], **headers: str) -> httpx.Response:
        return await self.client.post("/api/tasks", json=body, headers=headers)

    async def tick(self) -> dict[str, int]:
        return await self.runtime.runner.tick()

    async def advance_and_tick(self, seconds: float) -> dict[str, int]:
        """Move the harness's ManualClock forward, then run every worker once."""
        clock = self.runtime.clock
        assert isinstance(clock, ManualClock), "pass clock=ManualClock() to harness()"
        clock.advance(seconds)
        return await self.tick()

    async def task(self, task_id: str) -> dict[str, object]:
        response = await self.client.get(f"/api/tasks/{task_id}")
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    async def events(self, task_id: str) -> list[dict[str, object]]:
        response = await self.client.get("/api/events", params={"task_id": task_id})
        items: list[dict[str, object]] = response.json()["items"]
        return items


@asynccontextmanager
async def harness(
    settings: Settings,
    adapter: FakeAdapter | None = None,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[Harness]:
    """The app with workers off: `tick()` runs them. With `clock=ManualClock()`,
    `advance_and_tick()` makes polls and retries fall due without waiting."""
    adapter = adapter or FakeAdapter()
    app = create_app(
        settings.replace(workers=False), [DispatchPart({adapter.name: adapter})], db=db,
        clock=clock,
    )  # fmt: skip
    async with app_client(app) as client:
        yield Harness(client, app.state.runtime, adapter)


def video(prompt: str = "a fox", **extra: object) -> dict[str, object]:
    return {"provider": "fake", "model": "video", "input": {"prompt": prompt, **extra}}
