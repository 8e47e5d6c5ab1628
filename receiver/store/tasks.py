"""The tasks table: what was submitted, where it stands, and its timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from receiver.clock import now_ms, rfc3339
from receiver.db import Executor, Row
from receiver.errors import StoreError
from receiver.ids import new_id
from receiver.statuses import NOT_TERMINAL_SQL, TaskStatus
from receiver.store.estimate import progress_estimate
from receiver.store.jsonutil import dumps, loads
from receiver.store.lifecycle import task_progressed
from receiver.store.pagination import Page, fetch_page


@dataclass
class NewTask:
    """A task about to be stored."""

    provider: str
    model: str
    input: dict[str, Any]
    mode: str = "poll"
    status: TaskStatus = "submitted"
    provider_task_id: str | None = None
    callback_token_hash: str | None = None
    next_poll_at: int | None = None  # when a sent task is polled next
    send_next_at: int | None = None  # when an unsent task is sent (None: now)
    deadline_at: int | None = None
    idempotency_key: str | None = None
    parent_id: str | None = None
    then_spec: dict[str, Any] | None = None
    external: bool = False
    id: str = field(default_factory=lambda: new_id("tsk"))


_INSERT_TASK = (
    "INSERT INTO tasks (id, provider, model, input, provider_task_id, status, mode, "
    "callback_token_hash, next_poll_at, send_next_at, deadline_at, idempotency_key, "
    "parent_id, then_spec, external, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


async def insert_task(db: Executor, task: NewTask) -> Row:
    """Store a new task and return its row."""
    row = await db.fetchone(f"{_INSERT_TASK} RETURNING *", *_task_values(task))
    if row is None:
        raise StoreError(f"task {task.id} vanished right after insert")
    return row


async def ensure_task(tx: Executor, task: NewTask) -> tuple[Row, bool]:
    """The task with `task`'s provider task id, stored now if new; (row, created).

    Safe inside a larger transaction: a conflict inserts nothing instead of failing.
    """
    sql = f"{_INSERT_TASK} ON CONFLICT DO NOTHING RETURNING *"
    row = await tx.fetchone(sql, *_task_values(task))
    if row is not None:
        return row, True
    found = await find_by_provider_id(tx, task.provider, task.provider_task_id or "")
    if found is None:
        raise StoreError(f"task {task.id} was neither stored nor found")
    return found, False


def _task_values(task: NewTask) -> tuple[Any, ...]:
    now = now_ms()
    return (
        task.id, task.provider, task.model, dumps(task.input), task.provider_task_id,
        task.status, task.mode, task.callback_token_hash, task.next_poll_at,
        task.send_next_at, task.deadline_at, task.idempotency_key, task.parent_id,
        dumps(task.then_spec) if task.then_spec is not None else None,
        int(task.external), now, now,
    )  # fmt: skip


async def get_task(db: Executor, task_id: str) -> Row | None:
    """One task by our id."""
    return await db.fetchone("SELECT * FROM tasks WHERE id = ?", task_id)


async def find_by_provider_id(db: Executor, provider: str, provider_task_id: str) -> Row | None:
    """One task by the provider's id for it."""
    return await db.fetchone(
        "SELECT * FROM tasks WHERE provider = ? AND provider_task_id = ?",
        provider,
        provider_task_id,
    )


async def find_by_token_hash(db: Executor, provider: str, token_hash: str) -> Row | None:
    """The task of `provider` whose callback token hashes to `token_hash`, if any."""
    return await db.fetchone(
        "SELECT * FROM tasks WHERE callback_token_hash = ? AND provider = ?",
        token_hash,
        provider,
    )


async def find_many(
    db: Executor, ids: Sequence[str], provider_task_ids: Sequence[str]
) -> tuple[dict[str, Row], dict[tuple[str, str], Row]]:
    """Tasks by our ids and by provider task ids, in two queries: (by id, by (provider, ptid))."""
    by_id: dict[str, Row] = {}
    by_ptid: dict[tuple[str, str], Row] = {}
    if ids:
        marks = ", ".join("?" for _ in ids)
        for row in await db.fetchall(f"SELECT * FROM tasks WHERE id IN ({marks})", *ids):
            by_id[row["id"]] = row
    if provider_task_ids:
        marks = ", ".join("?" for _ in provider_task_ids)
        sql = f"SELECT * FROM tasks WHERE provider_task_id IN ({marks})"
        for row in await db.fetchall(sql, *provider_task_ids):
            by_ptid[(row["provider"], row["provider_task_id"])] = row
    return by_id, by_ptid


async def find_by_idempotency_key(db: Executor, key: str) -> Row | None:
    """The task created earlier with this Idempotency-Key, if any."""
    return await db.fetchone("SELECT * FROM tasks WHERE idempotency_key = ?", key)


async def list_tasks(
    db: Executor, filters: dict[str, str], *, limit: int, cursor: str | None
) -> Page:
    """Tasks, newest first, filtered by any of status/provider/model/parent_id."""
    allowed = ("status", "provider", "model", "parent_id")
    pairs = [(k, v) for k, v in filters.items() if k in allowed and v]
    return await fetch_page(db, "tasks", pairs, limit=limit, cursor=cursor)


async def update_progress(db: Executor, task_id: str, *, status: str, progress: int | None) -> bool:
    """Record a non-terminal status/progress; ignored once the task is terminal."""
    changed = await db.execute(
        f"UPDATE tasks SET status = ?, progress = COALESCE(?, progress), updated_at = ? "
        f"WHERE id = ? AND {NOT_TERMINAL_SQL}",
        status,
        progress,
        now_ms(),
        task_id,
    )
    if changed and progress is not None:
        await task_progressed(db, task_id)
    return changed > 0


async def set_options(
    db: Executor, task_id: str, *, metadata: dict[str, Any] | None, webhook: str | None
) -> Row | None:
    """Store a task's metadata and webhook URL (as given: None clears); the updated row."""
    return await db.fetchone(
        "UPDATE tasks SET metadata = ?, webhook = ? WHERE id = ? RETURNING *",
        dumps(metadata) if metadata is not None else None,
        webhook,
        task_id,
    )


async def add_history(db: Executor, task_id: str, kind: str, detail: Any = None) -> None:
    """Append one entry to a task's timeline."""
    await db.execute(
        "INSERT INTO task_history (id, task_id, kind, detail, at) VALUES (?, ?, ?, ?, ?)",
        new_id("hst"),
        task_id,
        kind,
        dumps(detail) if detail is not None else None,
        now_ms(),
    )


async def history(db: Executor, task_id: str) -> list[Row]:
    """A task's timeline, oldest first."""
    return await db.fetchall(
        "SELECT kind, detail, at FROM task_history WHERE task_id = ? ORDER BY id", task_id
    )


def task_to_api(row: Row) -> dict[str, Any]:
    """The public task object (see CONTRACT.md)."""
    return {
        "id": row["id"],
        "provider": row["provider"],
        "model": row["model"],
        "status": row["status"],
        "progress": row["progress"],
        "provider_task_id": row["provider_task_id"],
        "mode": row["mode"],
        "input": loads(row["input"]),
        "result": loads(row["result"]),
        "error": loads(row["error"]),
        "cost": loads(row.get("cost")),
        "expires_at": rfc3339(row.get("expires_at")),
        "parent_id": row["parent_id"],
        "metadata": loads(row.get("metadata")),
        "webhook": row.get("webhook"),
        "estimate": progress_estimate(row),
        "external": bool(row["external"]),
        "source": row["completion_source"],
        "poll_count": row["poll_count"],
        "created_at": rfc3339(row["created_at"]),
        "updated_at": rfc3339(row["updated_at"]),
        "completed_at": rfc3339(row["completed_at"]),
        "erased_at": rfc3339(row.get("erased_at")),
    }
