"""Callback sender: POSTs a task's final state to its callback URL, off the request path.

Each task with a callback URL gets one background asyncio task (owned by the app
lifespan through `CallbackSender.running()`) that waits for the final state, then
POSTs with a few retries. While paused, due callbacks are dropped (lost callbacks).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx

from dispatcher.emulator.config import EmulatorConfig
from dispatcher.emulator.state import EmuTask, TaskStore
from dispatcher.emulator.stats import Stats

log = logging.getLogger(__name__)

# Builds (body, extra headers) at send time, so signatures carry a fresh timestamp.
Payload = Callable[[EmuTask], tuple[dict[str, Any], dict[str, str]]]
MAX_BACKOFF_S = 5.0
PROGRESS_AT = 0.5  # progress reports are sent this far through a task


class CallbackSender:
    """Sends provider callbacks in the background; refuses work outside `running()`."""

    def __init__(self, config: EmulatorConfig, store: TaskStore, stats: Stats) -> None:
        self.config = config
        self.store = store
        self.stats = stats
        self.paused = False
        self._client: httpx.AsyncClient | None = None
        self._pending: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Own the HTTP client and the pending sends for the app's lifetime."""
        self._client = httpx.AsyncClient(timeout=self.config.callback_timeout_s)
        try:
            yield
        finally:
            pending = list(self._pending)
            for job in pending:
                job.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await self._client.aclose()
            self._client = None

    def schedule(self, task: EmuTask, payload: Payload) -> None:
        """Send `task`'s callback once it is final (no-op without a callback URL)."""
        if not task.callback_url:
            return
        if self._client is None:
            log.warning("callback for %s not scheduled: the emulator is not running", task.id)
            return
        job = asyncio.create_task(self._deliver(task, payload), name=f"callback-{task.id}")
        self._pending.add(job)
        job.add_done_callback(self._pending.discard)

    def schedule_progress(self, task: EmuTask, url: str, payload: Payload) -> None:
        """POST one progress report to `url` half-way through `task` (if still running)."""
        if self._client is None:
            return
        job = asyncio.create_task(self._progress(task, url, payload), name=f"progress-{task.id}")
        self._pending.add(job)
        job.add_done_callback(self._pending.discard)

    async def _progress(self, task: EmuTask, url: str, payload: Payload) -> None:
        client = self._client
        halfway = task.started + (task.due - task.started) * PROGRESS_AT
        await asyncio.sleep(max(0.0, halfway - self.store.now()))
        if client is None or self.paused or self.store.now() >= task.due:
            return
        body, headers = payload(task)
        if await self._post(client, url, task, body, headers):
            self.stats.callback("progress")

    async def _deliver(self, task: EmuTask, payload: Payload) -> None:
        client, url = self._client, task.callback_url
        if client is None or not url:
            return
        await self.store.wait_final(task)
        if self.config.callback_delay_s > 0:
            await asyncio.sleep(self.config.callback_delay_s)
        if self.paused:
            self.stats.callback("dropped")
            log.info("callback for %s dropped (callbacks paused)", task.id)
            return
        for attempt in range(self.config.callback_retries + 1):
            if attempt:
                await asyncio.sleep(min(MAX_BACKOFF_S, 0.25 * 2 ** (attempt - 1)))
            body, headers = payload(task)
            if await self._post(client, url, task, body, headers):
                self.stats.callback("sent")
                return
        self.stats.callback("failed")
        log.warning("callback for %s failed after %d attempts", task.id, attempt + 1)

    async def _post(
        self,
        client: httpx.AsyncClient,
        url: str,
        task: EmuTask,
        body: dict[str, Any],
        headers: dict[str, str],
    ) -> bool:
        self.stats.callback("attempts")
        content = json.dumps(body).encode()
        host = urlsplit(url).netloc
        try:
            response = await client.post(
                url,
                content=content,
                headers={"Content-Type": "application/json", **headers},
            )
        except httpx.HTTPError as exc:
            log.info("callback for %s to %s: %s", task.id, host, type(exc).__name__)
            return False
        if response.is_success:
            return True
        log.info("callback for %s to %s: HTTP %d", task.id, host, response.status_code)
        return False
