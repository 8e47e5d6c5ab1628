"""The poll schedule of sent tasks: when each is asked about next, and by whom.

A task the provider accepted (provider_task_id set) and that has not ended is polled at
`next_poll_at`; `poll_count` counts its polls, and `poll_lease_until` is the lease of the
process polling it, so several processes share one store without asking twice about a
task. The schedule lives in the row, so a restart resumes it.
"""

from __future__ import annotations

from receiver.db import Database, Executor, Row

_POLLED_SQL = "provider_task_id IS NOT NULL AND status IN ('submitted', 'running')"


async def claim_due_polls(db: Database, *, now: int, lease_s: float, limit: int) -> list[Row]:
    """Lease up to `limit` polled tasks due by `now` (or past their deadline), soonest first."""
    async with db.transaction() as tx:
        return await tx.fetchall(
            "UPDATE tasks SET poll_lease_until = ? WHERE id IN (SELECT id FROM tasks "
            f"WHERE {_POLLED_SQL} "
            "AND next_poll_at IS NOT NULL AND (next_poll_at <= ? OR deadline_at <= ?) "
            "AND (poll_lease_until IS NULL OR poll_lease_until < ?) "
            f"ORDER BY next_poll_at LIMIT ?{db.skip_locked}) RETURNING *",
            now + int(lease_s * 1000), now, now, now, limit,
        )  # fmt: skip


async def next_poll_due(db: Executor, *, now: int) -> int | None:
    """When the next poll falls due (epoch ms), among polls not due by `now`; None if none."""
    found = await db.fetchone(
        f"SELECT MIN(next_poll_at) AS due FROM tasks WHERE {_POLLED_SQL} AND next_poll_at > ?",
        now,
    )
    return int(found["due"]) if found and found["due"] is not None else None


async def schedule_poll(tx: Executor, task_id: str, *, next_at: int, count: int) -> bool:
    """A poll was made (`count` so far): release the lease, poll again at `next_at`.

    Ignored (False) once the task has ended.
    """
    changed = await tx.execute(
        "UPDATE tasks SET next_poll_at = ?, poll_count = ?, poll_lease_until = NULL "
        "WHERE id = ? AND status IN ('submitted', 'running')",
        next_at, count, task_id,
    )  # fmt: skip
    return changed > 0


async def reschedule_poll(db: Executor, task_id: str, *, next_at: int) -> bool:
    """Release the lease and poll again at `next_at`, without counting a poll.

    For a poll that failed in our own code: the provider was perhaps never asked.
    """
    changed = await db.execute(
        "UPDATE tasks SET next_poll_at = ?, poll_lease_until = NULL "
        "WHERE id = ? AND status IN ('submitted', 'running')",
        next_at, task_id,
    )  # fmt: skip
    return changed > 0


async def poll_rejections(db: Executor, task_id: str) -> int:
    """How many polls of the task the provider refused (permanent errors, not trusted at once)."""
    found = await db.fetchone(
        "SELECT COUNT(*) AS n FROM task_history WHERE task_id = ? AND kind = 'poll_rejected'",
        task_id,
    )
    return int(found["n"]) if found else 0
