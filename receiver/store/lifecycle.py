"""Lifecycle events: `task.started` (the provider accepted the task) and `task.progress`
(the progress changed; at most one per task every 10 s).

Both are opt-in: written only when an enabled subscriber's type filter names them (a
per-task webhook names every type), and delivered only to such subscribers, so existing
channels are not flooded and the events table does not grow for nobody.
"""

from __future__ import annotations

from typing import Any

from receiver.clock import now_ms
from receiver.db import Executor, Row
from receiver.statuses import ACTIVE_SQL
from receiver.store.estimate import expected_ms
from receiver.store.events import emit_event
from receiver.store.jsonutil import loads

PROGRESS_EVERY_MS = 10_000


async def wanted(tx: Executor, event_type: str, task_id: str) -> bool:
    """True when some enabled subscriber (global or the task's own) names `event_type`."""
    row = await tx.fetchone(
        "SELECT 1 AS yes FROM subscribers WHERE enabled = 1 "
        "AND (task_id IS NULL OR task_id = ?) AND filter LIKE ? LIMIT 1",
        task_id, f'%"{event_type}"%',
    )  # fmt: skip
    return row is not None


def lifecycle_data(task: Row) -> dict[str, Any]:
    """The `data` of a lifecycle event."""
    return {
        "task_id": task["id"],
        "provider": task["provider"],
        "model": task["model"],
        "provider_task_id": task["provider_task_id"],
        "status": task["status"],
        "progress": task["progress"],
        "parent_id": task["parent_id"],
        "metadata": loads(task.get("metadata")),
    }


async def task_started(
    tx: Executor, task_id: str, estimated_s: float | None = None
) -> dict[str, Any] | None:
    """The provider accepted the task: note when and how long it should take; emit
    `task.started` if anyone wants it."""
    task = await tx.fetchone("SELECT provider, model FROM tasks WHERE id = ?", task_id)
    if task is None:
        return None
    expected, _basis = await expected_ms(tx, task["provider"], task["model"], estimated_s)
    started = await tx.fetchone(
        "UPDATE tasks SET started_at = ?, expected_ms = ? WHERE id = ? RETURNING *",
        now_ms(), expected, task_id,
    )  # fmt: skip
    if started is None or not await wanted(tx, "task.started", task_id):
        return None
    return await emit_event(tx, "task.started", lifecycle_data(started), task_id=task_id)


async def task_progressed(tx: Executor, task_id: str) -> dict[str, Any] | None:
    """Emit `task.progress` when the progress changed and the last one is 10 s old."""
    if not await wanted(tx, "task.progress", task_id):
        return None
    now = now_ms()
    task = await tx.fetchone(
        "UPDATE tasks SET progress_event_at = ?, progress_event_value = progress "
        "WHERE id = ? AND COALESCE(progress_event_value, -1) <> progress "
        "AND (progress_event_at IS NULL OR progress_event_at <= ?) "
        f"AND {ACTIVE_SQL} RETURNING *",
        now, task_id, now - PROGRESS_EVERY_MS,
    )  # fmt: skip
    if task is None:
        return None
    return await emit_event(tx, "task.progress", lifecycle_data(task), task_id=task_id)
