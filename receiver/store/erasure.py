"""Erasing one task for a data-protection request: an anonymous tombstone stays.

The prompt, input, result, error text, timeline details, raw callbacks and inbox rows
go; the row keeps its id, provider, model, status and times, with `erased_at` set.
Events keep their ids and types (subscribers may have stored them) but lose their data,
and deliveries not yet made are dead-lettered so nothing erased leaves afterwards.
"""

from __future__ import annotations

from typing import Any

from receiver.clock import now_ms
from receiver.db import Database, Executor, Row
from receiver.errors import Conflict, NotFound
from receiver.statuses import TERMINAL
from receiver.store.jsonutil import dumps, loads
from receiver.store.tasks import get_task

ERASED_NOTE = "task erased"


async def erase_task(db: Database, task_id: str) -> Row:
    """Erase one finished task's content; returns the tombstone row."""
    async with db.transaction() as tx:
        task = await get_task(tx, task_id)
        if task is None:
            raise NotFound(f"no task {task_id!r}")
        if task["status"] not in TERMINAL:
            raise Conflict(
                f"task {task_id} is still {task['status']}: erase it once it has finished "
                "(or when it expires)"
            )
        now = now_ms()
        await _blank_task(tx, task_id, now)
        await _blank_events(tx, task, now)
        await tx.execute("DELETE FROM callbacks WHERE task_id = ?", task_id)
        await tx.execute("DELETE FROM inbox WHERE task_id = ?", task_id)
        tombstone = await get_task(tx, task_id)
    if tombstone is None:  # pragma: no cover - same transaction
        raise NotFound(f"no task {task_id!r}")
    return tombstone


async def _blank_task(tx: Executor, task_id: str, now: int) -> None:
    await tx.execute(
        "UPDATE tasks SET input = '{}', result = NULL, error = NULL, then_spec = NULL, "
        "idempotency_key = NULL, callback_token_hash = NULL, erased_at = ?, updated_at = ? "
        "WHERE id = ?",
        now, now, task_id,
    )  # fmt: skip
    await tx.execute("UPDATE task_history SET detail = NULL WHERE task_id = ?", task_id)


def tombstone_data(task: Row) -> dict[str, Any]:
    """What an erased task's events still say."""
    return {
        "task_id": task["id"],
        "provider": task["provider"],
        "model": task["model"],
        "status": task["status"],
        "erased": True,
    }


async def _blank_events(tx: Executor, task: Row, now: int) -> None:
    rows = await tx.fetchall("SELECT id, payload FROM events WHERE task_id = ?", task["id"])
    for row in rows:
        payload: dict[str, Any] = loads(row["payload"]) or {}
        payload["data"] = tombstone_data(task)
        await tx.execute("UPDATE events SET payload = ? WHERE id = ?", dumps(payload), row["id"])
    await tx.execute(
        "UPDATE deliveries SET state = 'dead', last_error = ?, lease_owner = NULL, "
        "lease_until = NULL, updated_at = ? WHERE state = 'pending' AND event_id IN "
        "(SELECT id FROM events WHERE task_id = ?)",
        ERASED_NOTE, now, task["id"],
    )  # fmt: skip
