"""The media tables: result files to archive and the task.succeeded events waiting for them.

A file is `pending` until it is `archived` or has `failed` for good; an archived file
past retention becomes `deleted` (the row stays). A wait row is `waiting` while the
event's deliveries are held, then `released` or `pending`, and `done` once the one
follow-up event is written (see `receiver.media.publish`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from receiver.clock import now_ms
from receiver.db import Database, Executor, Row
from receiver.ids import new_id

ERROR_CHARS = 300
FileState = Literal["pending", "archived", "failed", "deleted"]
FINAL_STATES: tuple[FileState, ...] = ("archived", "failed", "deleted")
WaitState = Literal["waiting", "released", "pending", "done"]


@dataclass(frozen=True)
class Source:
    """One result file of a task: its position, archive name and provider URL."""

    position: int
    name: str
    url: str


async def insert_files(
    tx: Executor, task_id: str, sources: Sequence[Source], *, expires_at: int
) -> None:
    """One pending row per result file, due now."""
    now = now_ms()
    for src in sources:
        await tx.execute(
            "INSERT INTO media_files (id, task_id, position, name, source_url, state, "
            "next_attempt_at, source_expires_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING",
            new_id("med"), task_id, src.position, src.name, src.url, now, expires_at, now,
        )  # fmt: skip


async def insert_wait(tx: Executor, task_id: str, event_id: str, *, release_at: int) -> None:
    """Hold the task's task.succeeded until `release_at` at most."""
    now = now_ms()
    await tx.execute(
        "INSERT INTO media_waits (task_id, event_id, state, release_at, created_at, updated_at) "
        "VALUES (?, ?, 'waiting', ?, ?, ?) ON CONFLICT DO NOTHING",
        task_id, event_id, release_at, now, now,
    )  # fmt: skip


async def claim_due(db: Database, owner: str, *, lease_s: float, limit: int) -> list[Row]:
    """Lease up to `limit` files due for a download attempt."""
    now = now_ms()
    async with db.transaction() as tx:
        return await tx.fetchall(
            "UPDATE media_files SET lease_owner = ?, lease_until = ?, attempts = attempts + 1 "
            "WHERE id IN (SELECT id FROM media_files WHERE state = 'pending' "
            "AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) "
            f"ORDER BY next_attempt_at, id LIMIT ?{db.skip_locked}) RETURNING *",
            owner, now + int(lease_s * 1000), now, now, limit,
        )  # fmt: skip


async def mark_archived(
    tx: Executor, file_id: str, owner: str, *, key: str, sha256: str, size: int, ctype: str
) -> bool:
    """The file is in the store; False when our lease was lost."""
    now = now_ms()
    changed = await tx.execute(
        "UPDATE media_files SET state = 'archived', storage_key = ?, sha256 = ?, bytes = ?, "
        "content_type = ?, archived_at = ?, last_error = NULL, lease_owner = NULL, "
        "lease_until = NULL WHERE id = ? AND lease_owner = ? AND state = 'pending'",
        key, sha256, size, ctype, now, file_id, owner,
    )  # fmt: skip
    return changed > 0


async def mark_attempt_failed(
    tx: Executor, file_id: str, owner: str, *, error: str, retry_at: int | None
) -> bool:
    """A failed attempt: due again at `retry_at`, or failed for good when None."""
    state = "pending" if retry_at is not None else "failed"
    changed = await tx.execute(
        "UPDATE media_files SET state = ?, next_attempt_at = ?, last_error = ?, "
        "lease_owner = NULL, lease_until = NULL "
        "WHERE id = ? AND lease_owner = ? AND state = 'pending'",
        state, retry_at or now_ms(), error[:ERROR_CHARS], file_id, owner,
    )  # fmt: skip
    return changed > 0


async def files_of(db: Executor, task_id: str) -> list[Row]:
    """A task's files, in result order."""
    return await db.fetchall(
        "SELECT * FROM media_files WHERE task_id = ? ORDER BY position, name", task_id
    )


async def get_file(db: Executor, task_id: str, name: str) -> Row | None:
    """One file row."""
    return await db.fetchone(
        "SELECT * FROM media_files WHERE task_id = ? AND name = ?", task_id, name
    )


async def get_wait(db: Executor, task_id: str) -> Row | None:
    """The wait row of a task, if its task.succeeded had files to wait for."""
    return await db.fetchone("SELECT * FROM media_waits WHERE task_id = ?", task_id)


async def lock_wait(tx: Executor, task_id: str) -> Row | None:
    """The task's wait row, locked for this transaction (a no-op update takes the lock)."""
    await tx.execute("UPDATE media_waits SET updated_at = updated_at WHERE task_id = ?", task_id)
    return await get_wait(tx, task_id)


async def move_wait(
    tx: Executor, task_id: str, old: WaitState, new: WaitState, *, before: int | None = None
) -> bool:
    """Compare-and-set the wait state (only while `release_at > before`, when given)."""
    sql = "UPDATE media_waits SET state = ?, updated_at = ? WHERE task_id = ? AND state = ?"
    args: list[object] = [new, now_ms(), task_id, old]
    if before is not None:
        sql += " AND release_at > ?"
        args.append(before)
    return await tx.execute(sql, *args) > 0


async def set_followup(tx: Executor, task_id: str, event_id: str) -> bool:
    """Record the one follow-up event (media_ready / media_failed); False if there is one."""
    changed = await tx.execute(
        "UPDATE media_waits SET state = 'done', followup_event_id = ?, updated_at = ? "
        "WHERE task_id = ? AND state = 'pending' AND followup_event_id IS NULL",
        event_id, now_ms(), task_id,
    )  # fmt: skip
    return changed > 0


async def set_followup_event(tx: Executor, task_id: str, event_id: str) -> None:
    """Name the follow-up event once it is written (`set_followup` reserved the slot)."""
    await tx.execute(
        "UPDATE media_waits SET followup_event_id = ? WHERE task_id = ?", event_id, task_id
    )


async def overdue_waits(db: Executor, *, now: int, limit: int = 100) -> list[Row]:
    """Waits whose time ran out."""
    return await db.fetchall(
        "SELECT * FROM media_waits WHERE state = 'waiting' AND release_at <= ? "
        "ORDER BY release_at LIMIT ?",
        now, limit,
    )  # fmt: skip


async def hold_deliveries(tx: Executor, event_id: str, due_at: int) -> None:
    """Make the event's first deliveries due at `due_at` (earlier or later)."""
    await tx.execute(
        "UPDATE deliveries SET due_at = ?, updated_at = ? WHERE event_id = ? "
        "AND state = 'pending' AND attempt_count = 0 AND generation = 0",
        due_at, now_ms(), event_id,
    )  # fmt: skip


async def set_event_payload(tx: Executor, event_id: str, payload: str) -> None:
    """Rewrite an event before any of its deliveries went out."""
    await tx.execute("UPDATE events SET payload = ? WHERE id = ?", payload, event_id)


async def expired_archives(db: Executor, *, archived_before: int, limit: int) -> list[Row]:
    """Archived files past retention."""
    return await db.fetchall(
        "SELECT * FROM media_files WHERE state = 'archived' AND archived_at < ? "
        "ORDER BY archived_at LIMIT ?",
        archived_before, limit,
    )  # fmt: skip


async def mark_deleted(db: Executor, file_id: str) -> None:
    """The archived copy is gone; the row stays as the record that it existed."""
    await db.execute(
        "UPDATE media_files SET state = 'deleted', deleted_at = ? WHERE id = ? "
        "AND state = 'archived'",
        now_ms(), file_id,
    )  # fmt: skip
