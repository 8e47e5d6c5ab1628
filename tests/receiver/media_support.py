"""Helpers for the media archive tests: a result-file server and an app with the archive."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from receiver.app import create_app
from receiver.fanout.fanout_part import FanoutPart
from receiver.media.media_part import MediaPart
from receiver.runtime import Runtime
from receiver.settings import Settings
from receiver.store import Outcome, record_completion
from receiver.store.tasks import NewTask, insert_task
from tests.support import app_client

CHUNK = 256 * 1024


def body_of(name: str, size: int) -> bytes:
    """The deterministic bytes the file server sends for `name` (small sizes only)."""
    return b"".join(_chunks(name, size))


def _chunks(name: str, size: int) -> Any:
    block = hashlib.sha256(name.encode()).digest() * (CHUNK // 32)
    sent = 0
    while sent < size:
        piece = block[: min(CHUNK, size - sent)]
        sent += len(piece)
        yield piece


def sha_of(name: str, size: int) -> str:
    """sha256 of what the file server sends for `name`, computed chunk by chunk."""
    digest = hashlib.sha256()
    for piece in _chunks(name, size):
        digest.update(piece)
    return digest.hexdigest()


@dataclass
class FileServer:
    """Serves generated files; can fail the next N requests or forget a file (deleted)."""

    sizes: dict[str, int] = field(default_factory=dict)
    fail_next: int = 0
    deleted: set[str] = field(default_factory=set)
    requests: int = 0
    content_type: str = "video/mp4"
    stall_s: float = 0.0  # wait this long before the body
    send_length: bool = True  # False: no content-length (the cap must trip mid-stream)

    def app(self) -> Starlette:
        async def serve(request: Request) -> Response:
            name = request.path_params["name"]
            self.requests += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response("busy", 503)
            if name in self.deleted or name not in self.sizes:
                return Response("gone", 404)
            size = self.sizes[name]
            if self.stall_s:
                await asyncio.sleep(self.stall_s)
            headers = {"content-length": str(size)} if self.send_length else {}
            return StreamingResponse(_agen(name, size), media_type=self.content_type,
                                     headers=headers)  # fmt: skip

        return Starlette(routes=[Route("/files/{name}", serve)])


async def _agen(name: str, size: int) -> AsyncIterator[bytes]:
    for piece in _chunks(name, size):
        yield piece


def media_settings(settings: Settings, tmp_path: Any, **changes: Any) -> Settings:
    """Test settings with the file archive on and fast retries."""
    base: dict[str, Any] = {
        "media": "file",
        "media_dir": str(tmp_path / "media"),
        "media_wait_s": 30.0,
        "media_retry_base_s": 0.05,
        "media_retry_max_s": 0.2,
        "workers": False,
        "delivery_retry_schedule_s": (0.0, 0.05, 0.1),
    }
    base.update(changes)
    return settings.replace(**base)


@asynccontextmanager
async def media_app(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The receiver with fan-out and the archive, in-process; yields (client, runtime)."""
    app = create_app(settings, [FanoutPart(), MediaPart()])
    async with app_client(app) as client:
        yield client, app.state.runtime


async def succeed(runtime: Runtime, result: dict[str, Any], **task: Any) -> dict[str, Any]:
    """A task that succeeds now with `result`; returns its task.succeeded event."""
    new = NewTask(task.get("provider", "foxapi"), task.get("model", "sora-2"), {"prompt": "a cat"})
    row = await insert_task(runtime.db, new)
    event = await record_completion(
        runtime.db,
        Outcome(row["id"], "succeeded", "poll", result=result),
        hooks=runtime.completion_hooks,
    )
    assert event is not None
    return event


async def tick_until(runtime: Runtime, predicate: Any, *, passes: int = 400) -> None:
    """Run worker passes until `predicate()` (async) is true."""
    for _ in range(passes):
        await runtime.runner.tick()
        if await predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met")
