"""Shared test helpers: run an app (lifespan included) in-process or on real loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp

from receiver.workers import WorkerRunner

ADMIN_TOKEN = "test-admin-token-0123456789"
SECRET_KEY = "test-secret-key-0123456789-0123456789-abcdef"


@asynccontextmanager
async def app_client(
    app: Starlette, token: str | None = ADMIN_TOKEN
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to `app` in-process, with its lifespan running."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as client:
            yield client


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def live_server(app: ASGIApp, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on loopback; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    server.capture_signals = _no_signals  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


def _no_signals() -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()


async def wait_for(predicate, timeout_s: float = 10.0, interval_s: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll an async or sync predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(interval_s)


async def tick_until(
    runner: WorkerRunner,
    predicate: Callable[[], bool | Awaitable[bool]],
    timeout_s: float = 10.0,
    idle_s: float = 0.01,
) -> None:
    """Run worker passes (`runner.tick()`) until `predicate()` (sync or async) holds.

    The test drives the workers instead of waiting for their loops. A pass that handled
    something is followed by the next at once; only after an idle pass does this wait
    `idle_s`, for work that falls due later (a delivery retry on its schedule).
    """
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        handled = await runner.tick()
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s of worker passes")
        if not any(count > 0 for count in handled.values()):
            await asyncio.sleep(idle_s)
