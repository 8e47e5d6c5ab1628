"""Helpers for the fault tests: programmed provider faults, misbehaving subscribers, timing.

The full app (`build_app`) and the emulator run on loopback through
`tests.dispatcher.emulated`; subscribers are `Recorder` apps from the fan-out tests or
the raw TCP servers below (connection resets, a response trickled byte by byte).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from receiver.settings import Settings

# Fast schedules: every wait in these tests is a fraction of a second.
FAST: dict[str, Any] = {
    "poll_min_interval_s": 0.05,
    "poll_max_interval_s": 0.2,
    "provider_timeout_s": 0.5,
    "delivery_timeout_s": 0.5,
    "delivery_retry_schedule_s": (0.0, 0.1, 0.1),
    "delivery_lease_s": 5.0,
}
CLIP = "https://files.example/me.mp4"
# one cheap submission per provider (the emulator serves each)
SUBMISSIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "kie": ("sora-2-characters", {"character_file_url": [CLIP]}),
    "foxapi": ("sora-2", {"prompt": "waves", "duration": 4}),
    "toapis": ("sora-2-pro", {"prompt": "a cat surfs"}),
}


def fast(settings: Settings, **changes: Any) -> Settings:
    """`settings` with the fast schedules above (and any `changes`)."""
    return settings.replace(**{**FAST, **changes})


async def program(emulator_url: str, *faults: dict[str, Any]) -> None:
    """Queue faults at the emulator (applied to the next requests, in order)."""
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.post(f"{emulator_url}/_emulator/faults", json=list(faults))
        assert answer.status_code == 201, answer.text


async def task_detail(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    """`GET /api/tasks/{id}` (the task with its history)."""
    answer = await client.get(f"/api/tasks/{task_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def history_of(task: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The `detail` of every history entry of one kind."""
    return [h["detail"] for h in task["history"] if h["kind"] == kind]


async def subscribe(client: httpx.AsyncClient, url: str, **extra: Any) -> dict[str, Any]:
    """Add a webhook subscriber through the API."""
    answer = await client.post("/api/subscribers", json={"url": url, "kind": "webhook", **extra})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def deliveries_of(client: httpx.AsyncClient, subscriber_id: str) -> list[dict[str, Any]]:
    """Every delivery to one subscriber, with its attempts (newest first)."""
    answer = await client.get("/api/deliveries", params={"subscriber_id": subscriber_id})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def settled(client: httpx.AsyncClient, subscriber_id: str, count: int = 1) -> Any:
    """The subscriber's deliveries once `count` exist and none is pending any more."""
    items = await deliveries_of(client, subscriber_id)
    if len(items) >= count and all(d["state"] != "pending" for d in items):
        return items
    return None


@dataclass
class Hang:
    """A subscriber behaviour: the first `times` requests hang until released."""

    times: int = 1_000_000
    longest_s: float = 30.0
    started: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, n: int, _request: Request) -> Response:
        if n < self.times:
            self.started += 1
            try:
                await asyncio.wait_for(self.released.wait(), self.longest_s)
            except TimeoutError:
                pass
        return Response("ok")


@dataclass
class Timings:
    """How long each request to the service took while faults were active."""

    seconds: dict[str, list[float]] = field(default_factory=dict)

    def worst(self) -> float:
        return max(s for values in self.seconds.values() for s in values)

    def median(self) -> float:
        return statistics.median(s for values in self.seconds.values() for s in values)

    def count(self) -> int:
        return sum(len(values) for values in self.seconds.values())


async def measure(client: httpx.AsyncClient, paths: tuple[str, ...], duration_s: float) -> Timings:
    """Request each path in turn for `duration_s`; every answer must be 200."""
    timings = Timings({path: [] for path in paths})
    end = time.monotonic() + duration_s
    while time.monotonic() < end:
        for path in paths:
            started = time.monotonic()
            answer = await client.get(path, timeout=5)
            timings.seconds[path].append(time.monotonic() - started)
            assert answer.status_code == 200, (path, answer.status_code, answer.text)
        await asyncio.sleep(0.02)
    return timings


@asynccontextmanager
async def trickling_server(interval_s: float = 0.1) -> AsyncIterator[tuple[str, list[int]]]:
    """A subscriber that answers its status line, then one header byte per `interval_s`.

    Each single read finishes quickly, so a per-read timeout never fires: only a bound
    on the whole attempt ends it.
    """
    hits: list[int] = []
    handlers: set[asyncio.Task[Any]] = set()
    stop = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            handlers.add(task)
        try:
            await reader.readuntil(b"\r\n\r\n")
            hits.append(1)
            writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.is_set() and not writer.is_closing():
                await writer.drain()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval_s)
                writer.write(b"a")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            handlers.discard(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", hits
    finally:
        stop.set()
        server.close()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
