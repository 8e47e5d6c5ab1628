"""How archive outcomes reach subscribers.

A task.succeeded with result files is written at completion as usual, but its
deliveries are held (due later) while the files download. Then, in one transaction:
- all files archived before the wait ran out: the event is rewritten with the archived
  media and its deliveries become due now (`released`);
- a download attempt failed, or the wait ran out: the deliveries go out with the media
  `pending` (`pending`), and once every file is archived or has failed for good, one
  `task.media_ready` (or `task.media_failed`) follows (`done`; a compare-and-set makes
  it one across crashes and concurrent workers).
"""

from __future__ import annotations

from typing import Any

from receiver.clock import now_ms
from receiver.db import Executor
from receiver.media.entries import entries
from receiver.media.store import MediaStore
from receiver.store import media as records
from receiver.store.events import emit_event, get_event
from receiver.store.jsonutil import dumps, loads

# A release must happen this long before the held deliveries fall due on their own.
RELEASE_MARGIN_MS = 2000


async def after_failed_attempt(tx: Executor, task_id: str) -> None:
    """A download attempt failed: task.succeeded stops waiting and goes out now."""
    wait = await records.lock_wait(tx, task_id)
    if wait is not None and await records.move_wait(tx, task_id, "waiting", "pending"):
        await records.hold_deliveries(tx, wait["event_id"], now_ms())


async def settle(tx: Executor, task_id: str, store: MediaStore, *, ttl_s: float) -> str | None:
    """After a file reached a final state: release or follow up; the event type sent, if any."""
    wait = await records.lock_wait(tx, task_id)
    files = await records.files_of(tx, task_id)
    if wait is None or any(f["state"] == "pending" for f in files):
        return None
    media = await entries(files, store, ttl_s=ttl_s)
    all_archived = all(f["state"] == "archived" for f in files)
    if wait["state"] == "waiting":
        if all_archived and await records.move_wait(
            tx, task_id, "waiting", "released", before=now_ms() + RELEASE_MARGIN_MS
        ):
            await _publish_with_media(tx, wait["event_id"], media)
            return "task.succeeded"
        await records.move_wait(tx, task_id, "waiting", "pending")
        await records.hold_deliveries(tx, wait["event_id"], now_ms())
    event_type = "task.media_ready" if all_archived else "task.media_failed"
    return event_type if await _follow_up(tx, wait, event_type, media) else None


async def _publish_with_media(tx: Executor, event_id: str, media: list[dict[str, Any]]) -> None:
    row = await get_event(tx, event_id)
    if row is None:  # pragma: no cover - written with the wait row
        return
    event = loads(row["payload"])
    event["data"]["result"] = {**(event["data"].get("result") or {}), "media": media}
    await records.set_event_payload(tx, event_id, dumps(event))
    await records.hold_deliveries(tx, event_id, now_ms())


async def _follow_up(
    tx: Executor, wait: dict[str, Any], event_type: str, media: list[dict[str, Any]]
) -> bool:
    if not await records.set_followup(tx, wait["task_id"], "-"):
        return False
    row = await get_event(tx, wait["event_id"])
    data = dict(loads(row["payload"])["data"]) if row else {"task_id": wait["task_id"]}
    data["result"] = {**(data.get("result") or {}), "media": media}
    event = await emit_event(
        tx, event_type, data, task_id=wait["task_id"], source=data.get("source")
    )
    if event is not None:
        await records.set_followup_event(tx, wait["task_id"], event["id"])
    return True
