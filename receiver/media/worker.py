"""The media worker: downloads due result files into the store, with leases and backoff.

Each pass: lets overdue waits go (their task.succeeded goes out with media pending),
downloads a bounded batch of due files concurrently, and now and then deletes archived
files past retention. Several workers (processes, machines) can run at once: files are
claimed with a lease, and a crashed worker's files are tried again when it runs out.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from receiver.clock import now_ms
from receiver.db import Database, Row
from receiver.fanout.ssrf import UrlGuard
from receiver.ids import new_id
from receiver.media import publish
from receiver.media.download import DownloadError, check_source, download
from receiver.media.store import MediaStore
from receiver.settings import Settings
from receiver.store import media as records

log = logging.getLogger(__name__)

BATCH = 4
LEASE_MARGIN_S = 60.0
PURGE_EVERY_MS = 3600 * 1000
DAY_MS = 86400 * 1000


class MediaWorker:
    """Archives result files; one bounded batch per `run_once()`."""

    name = "media"

    def __init__(
        self,
        db: Database,
        settings: Settings,
        client: httpx.AsyncClient,
        store: MediaStore,
        guard: UrlGuard,
    ) -> None:
        self._db = db
        self._guard = guard
        self._settings = settings
        self._client = client
        self._store = store
        self._owner = new_id("mw")
        self._next_purge_ms = 0

    async def run_once(self) -> int:
        """Release overdue waits, download due files, purge old ones; how many handled."""
        handled = await self._release_overdue()
        lease_s = self._settings.media_download_timeout_s + LEASE_MARGIN_S
        rows = await records.claim_due(self._db, self._owner, lease_s=lease_s, limit=BATCH)
        await asyncio.gather(*(self._archive(row) for row in rows))
        return handled + len(rows) + await self._purge_if_due()

    async def _release_overdue(self) -> int:
        released = 0
        for wait in await records.overdue_waits(self._db, now=now_ms()):
            async with self._db.transaction() as tx:
                if await records.move_wait(tx, wait["task_id"], "waiting", "pending"):
                    released += 1
        return released

    async def _archive(self, row: Row) -> None:
        key = f"{row['task_id']}/{row['name']}"
        max_bytes = self._settings.media_max_mb * 1024 * 1024
        try:
            check_source(self._guard, row["source_url"])
            async with asyncio.timeout(self._settings.media_download_timeout_s):
                got = await download(self._client, row["source_url"], self._store, key,
                                     max_bytes=max_bytes)  # fmt: skip
        except (DownloadError, TimeoutError) as exc:
            await self._failed(row, exc)
            return
        async with self._db.transaction() as tx:
            if not await records.mark_archived(
                tx, row["id"], self._owner, key=key, sha256=got.sha256, size=got.bytes,
                ctype=got.content_type,
            ):  # fmt: skip
                return
            sent = await publish.settle(tx, row["task_id"], self._store, ttl_s=self._ttl_s)
        log.info("archived %s of task %s (%d bytes)%s", row["name"], row["task_id"], got.bytes,
                 f"; {sent} sent" if sent else "")  # fmt: skip

    async def _failed(self, row: Row, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        retry_at = self._retry_at(row, exc)
        giving_up = "" if retry_at else ", giving up"
        log.warning("downloading %s of task %s failed (attempt %d%s): %s", row["name"],
                    row["task_id"], row["attempts"], giving_up, message)  # fmt: skip
        async with self._db.transaction() as tx:
            if not await records.mark_attempt_failed(
                tx, row["id"], self._owner, error=message, retry_at=retry_at
            ):
                return
            await publish.after_failed_attempt(tx, row["task_id"])
            if retry_at is None:
                await publish.settle(tx, row["task_id"], self._store, ttl_s=self._ttl_s)

    def _retry_at(self, row: Row, exc: Exception) -> int | None:
        """When to try again (doubling backoff), or None once retrying cannot help."""
        if isinstance(exc, DownloadError) and exc.permanent:
            return None
        base, cap = self._settings.media_retry_base_s, self._settings.media_retry_max_s
        delay_s = min(cap, base * 2.0 ** max(0, row["attempts"] - 1))
        at = now_ms() + int(delay_s * 1000)
        return at if at < row["source_expires_at"] else None

    @property
    def _ttl_s(self) -> float:
        return self._settings.media_url_ttl_s

    async def _purge_if_due(self) -> int:
        now = now_ms()
        if now < self._next_purge_ms:
            return 0
        self._next_purge_ms = now + PURGE_EVERY_MS
        return await self.purge(now - int(self._settings.media_retention_days * DAY_MS))

    async def purge(self, archived_before: int) -> int:
        """Delete archived files archived before `archived_before` (epoch ms); the rows stay."""
        rows = await records.expired_archives(self._db, archived_before=archived_before, limit=500)
        for row in rows:
            try:
                await self._store.delete(row["storage_key"])
            except OSError as exc:
                log.warning("cannot delete archived %s: %s (will retry)", row["storage_key"], exc)
                continue
            await records.mark_deleted(self._db, row["id"])
        if rows:
            log.info("deleted %d archived files past retention", len(rows))
        return len(rows)
