"""Helpers for the fan-out tests: recording subscriber servers, a worker, events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from receiver.db import Database
from receiver.fanout import fanout as live_fanout
from receiver.fanout.fanout import delivery_client, guard_from
from receiver.fanout.fanout_part import FanoutPart
from receiver.fanout.sinks import Sink, build_sinks, close_sinks
from receiver.fanout.ssrf import Resolver, system_resolver
from receiver.fanout.subscriptions import Subscriptions
from receiver.fanout.worker import DeliveryWorker
from receiver.metrics import Metrics
from receiver.settings import Settings
from receiver.store import Outcome, record_completion
from receiver.store.tasks import NewTask, insert_task

FAST_SCHEDULE = (0.0, 0.05, 0.1)


@dataclass
class Received:
    """One request a test subscriber got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


Behaviour = Callable[[int, Request], Awaitable[Response] | Response]


def ok(_n: int, _request: Request) -> Response:
    """Always 200."""
    return Response("ok")


@dataclass
class Recorder:
    """A subscriber app that records every request and answers per `behaviour(n, request)`."""

    behaviour: Behaviour = ok
    received: list[Received] = field(default_factory=list)

    def app(self) -> Starlette:
        async def handler(request: Request) -> Response:
            body = await request.body()
            n = len(self.received)
            self.received.append(
                Received(request.url.path, dict(request.headers), body, time.monotonic())
            )
            answer = self.behaviour(n, request)
            if asyncio.iscoroutine(answer):
                answer = await answer
            return answer  # type: ignore[return-value]

        return Starlette(routes=[Route("/{path:path}", handler, methods=["POST", "GET"])])

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


def fast_settings(settings: Settings, **changes: Any) -> Settings:
    """Test settings with a fast schedule and short timeouts."""
    base: dict[str, Any] = {
        "delivery_retry_schedule_s": FAST_SCHEDULE,
        "delivery_timeout_s": 2.0,
        "delivery_lease_s": 5.0,
        "workers": False,
    }
    base.update(changes)
    return settings.replace(**base)


@dataclass
class Fanout:
    """A worker and the subscriber service over one database."""

    subs: Subscriptions
    worker: DeliveryWorker
    metrics: Metrics

    async def drain(self, until: Callable[[], Any], timeout_s: float = 10.0) -> None:
        """Run passes until `until()` (sync or async) is truthy."""
        deadline = time.monotonic() + timeout_s
        while True:
            handled = await self.worker.run_once()
            value = until()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout_s}s")
            if handled <= 0:  # nothing due now: wait for what falls due later (retries)
                await asyncio.sleep(0.01)


@asynccontextmanager
async def fanout(
    db: Database,
    settings: Settings,
    *,
    resolver: Resolver = system_resolver,
    sinks: Mapping[str, Sink] | None = None,
    **worker_args: Any,
) -> AsyncIterator[Fanout]:
    """Build the fan-out pieces the way the fan-out part does."""
    guard = guard_from(settings, resolver)
    client = delivery_client(guard, settings.delivery_timeout_s)
    subs = Subscriptions.from_settings(db, settings, guard)
    metrics = Metrics()
    all_sinks = {**build_sinks(guard), **(sinks or {})}
    worker = DeliveryWorker(db, settings, client, all_sinks, subs.box, metrics, **worker_args)
    try:
        yield Fanout(subs, worker, metrics)
    finally:
        await close_sinks(all_sinks)
        await client.aclose()


async def complete(
    db: Database,
    status: str = "succeeded",
    *,
    provider: str = "kie",
    model: str = "sora-2",
    prompt: str = "a cat surfing",
) -> dict[str, Any]:
    """A task that completes now; returns its event."""
    task = await insert_task(db, NewTask(provider, model, {"prompt": prompt}))
    result = {"video_urls": ["https://cdn.example/v1.mp4"]} if status == "succeeded" else None
    error = {"code": "content_policy", "message": "refused"} if status == "failed" else None
    event = await record_completion(
        db, Outcome(task["id"], status, "callback", result=result, error=error)
    )
    assert event is not None
    return event


async def delivery_states(db: Database) -> list[str]:
    rows = await db.fetchall("SELECT state FROM deliveries ORDER BY id")
    return [row["state"] for row in rows]


def fanout_of(app: Starlette) -> live_fanout.Fanout:
    """The running fan-out of an app built with a FanoutPart (started by its lifespan)."""
    part = next(p for p in app.state.parts if isinstance(p, FanoutPart))
    return part.fanout.get()
