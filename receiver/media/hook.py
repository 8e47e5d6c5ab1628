"""The completion hook: a succeeded task's result files are queued for the archive.

Runs inside `record_completion`'s transaction, after its event and deliveries were
written: adds one row per file and one wait row, marks the files `pending` in the
event's `data.result.media`, and holds the event's deliveries until the wait runs out
(the media worker releases them earlier). The completion record itself never waits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from receiver.clock import now_ms
from receiver.db import Executor, Row
from receiver.media.entries import pending_entry, sources_of
from receiver.settings import Settings
from receiver.store import media as records
from receiver.store.jsonutil import dumps


class MediaHook:
    """A `CompletionHook` that queues a succeeded task's files for download."""

    def __init__(self, settings: Settings, wake: Callable[[], None] = lambda: None) -> None:
        self._settings = settings
        self._wake = wake

    async def __call__(self, tx: Executor, task: Row, event: dict[str, Any]) -> None:
        """Queue the files and hold the event (no-op for other outcomes)."""
        data = event.get("data") or {}
        if event.get("type") != "task.succeeded":
            return
        sources = sources_of(data.get("result"))
        if not sources:
            return
        now = now_ms()
        expires_at = now + int(self._settings.media_source_ttl_s * 1000)
        release_at = now + int(self._settings.media_wait_s * 1000)
        await records.insert_files(tx, task["id"], sources, expires_at=expires_at)
        await records.insert_wait(tx, task["id"], event["id"], release_at=release_at)
        media = [pending_entry(src.url, src.name) for src in sources]
        data["result"] = {**(data.get("result") or {}), "media": media}
        await records.set_event_payload(tx, event["id"], dumps(event))
        await records.hold_deliveries(tx, event["id"], release_at)
        self._wake()
