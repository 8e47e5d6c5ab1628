"""The media archive part of the app: the completion hook, the worker and the routes."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

import httpx
from starlette.routing import BaseRoute

from receiver.fanout.fanout import guard_from
from receiver.fanout.guarded_transport import GuardedTransport
from receiver.fanout.ssrf import Resolver, UrlGuard, system_resolver
from receiver.media import routes
from receiver.media.archive import Archive, build_store
from receiver.media.hook import MediaHook
from receiver.media.worker import MediaWorker
from receiver.runtime import Runtime
from receiver.slot import Slot

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
WAKE_DELAY_S = 0.05  # the hook runs inside the completion transaction: look after commit
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0


def media_client(guard: UrlGuard) -> httpx.AsyncClient:
    """Downloads go through the subscriber URL guard (same relaxing settings)."""
    return httpx.AsyncClient(
        transport=GuardedTransport(guard),
        timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,
    )


class MediaPart:
    """Archives succeeded tasks' result files (TASKHOOK_MEDIA)."""

    def __init__(self, resolver: Resolver = system_resolver) -> None:
        self._resolver = resolver
        self.archive: Slot[Archive] = Slot("the media archive")

    def routes(self) -> list[BaseRoute]:
        """`/media/{task_id}/{name}` and `/api/tasks/{task_id}/media`."""
        return routes.routes(self.archive)

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        """Build the store; register the hook and the worker (nothing when the archive is off)."""
        store = build_store(runtime.settings)
        if store is None:
            return
        self.archive.fill(Archive(store, runtime.settings))
        guard = guard_from(runtime.settings, self._resolver)
        client = media_client(guard)
        stack.push_async_callback(client.aclose)
        worker = MediaWorker(runtime.db, runtime.settings, client, store, guard)
        runtime.runner.add(worker)

        loop = asyncio.get_running_loop()

        def later() -> None:
            loop.call_later(WAKE_DELAY_S, runtime.runner.wake, worker.name)

        def wake() -> None:
            # called inside the completion transaction, which may run in the SQLite
            # writer's thread: schedule on the loop
            loop.call_soon_threadsafe(later)

        runtime.completion_hooks.append(MediaHook(runtime.settings, wake))
        log.info("media archive on: %s store", store.kind)
