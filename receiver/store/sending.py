"""Send attempts: the schedule of tasks that are stored but not accepted by their provider yet.

A task is stored first (status `submitted`, provider_task_id NULL) and sent second. Until
its provider accepts it, `send_next_at` is when the next attempt is due (NULL: now),
`send_attempts` counts the attempts that failed, and `send_lease_until` is the lease of
the process sending it. The lease is taken and renewed by compare-and-set, so two
processes never send one task at once. Once the provider has accepted the task, its poll
columns (`receiver.store.polling`) take over.
"""

from __future__ import annotations

from receiver.clock import now_ms
from receiver.db import Database, Executor, Row

_UNSENT_SQL = "status = 'submitted' AND provider_task_id IS NULL"
_NOT_TERMINAL_SQL = "status NOT IN ('succeeded', 'failed', 'cancelled', 'expired')"


def _lease_end(now: int, lease_s: float) -> int:
    return now + int(lease_s * 1000)


async def claim_due_sends(db: Database, *, now: int, lease_s: float, limit: int) -> list[Row]:
    """Lease up to `limit` unsent tasks whose next attempt is due by `now`, lease run out.

    Tasks recorded from callbacks (`external`) were never ours to send.
    """
    async with db.transaction() as tx:
        return await tx.fetchall(
            "UPDATE tasks SET send_lease_until = ? WHERE id IN (SELECT id FROM tasks "
            f"WHERE {_UNSENT_SQL} AND external = 0 "
            "AND (send_next_at IS NULL OR send_next_at <= ?) "
            "AND (send_lease_until IS NULL OR send_lease_until < ?) "
            f"ORDER BY id LIMIT ?{db.skip_locked}) RETURNING *",
            _lease_end(now, lease_s), now, now, limit,
        )  # fmt: skip


async def claim_send(db: Database, task_id: str, *, now: int, lease_s: float) -> Row | None:
    """Lease one unsent task at `now`, due or not (the API path sends what it just stored).

    None when the task was sent already or another process holds its lease.
    """
    async with db.transaction() as tx:
        return await tx.fetchone(
            f"UPDATE tasks SET send_lease_until = ? WHERE id = ? AND {_UNSENT_SQL} "
            "AND (send_lease_until IS NULL OR send_lease_until < ?) RETURNING *",
            _lease_end(now, lease_s), task_id, now,
        )  # fmt: skip


async def renew_send_lease(
    db: Executor, task: Row, *, now: int, lease_s: float, mode: str, token_hash: str | None
) -> int | None:
    """Renew the lease held on `task` right before its request goes out; its new end.

    Compare-and-set on the lease read with the row: None when another process took the
    task over meanwhile (then it must not be sent). Stores how the task will report
    back (`mode`) and its callback token's hash in the same write.
    """
    lease_until = _lease_end(now, lease_s)
    changed = await db.execute(
        "UPDATE tasks SET send_lease_until = ?, callback_token_hash = ?, mode = ?, "
        f"updated_at = ? WHERE id = ? AND send_lease_until = ? AND {_UNSENT_SQL}",
        lease_until, token_hash, mode, now, task["id"], task["send_lease_until"],
    )  # fmt: skip
    return lease_until if changed else None


async def mark_sent(
    tx: Executor,
    task_id: str,
    *,
    provider_task_id: str,
    status: str,
    progress: int | None,
    first_poll_at: int,
) -> bool:
    """The provider accepted the task: store its id, end the send schedule, start polls.

    Ignored (False) once the task is terminal, e.g. expired meanwhile.
    """
    changed = await tx.execute(
        "UPDATE tasks SET provider_task_id = ?, status = ?, progress = COALESCE(?, progress), "
        "send_next_at = NULL, send_lease_until = NULL, "
        "next_poll_at = ?, poll_count = 0, poll_lease_until = NULL, updated_at = ? "
        f"WHERE id = ? AND {_NOT_TERMINAL_SQL}",
        provider_task_id, status, progress, first_poll_at, now_ms(), task_id,
    )  # fmt: skip
    return changed > 0


async def schedule_send_retry(tx: Executor, task_id: str, *, next_at: int, attempts: int) -> bool:
    """An attempt failed: count it, release the lease, try again at `next_at`.

    Ignored (False) if the task was sent meanwhile.
    """
    changed = await tx.execute(
        "UPDATE tasks SET send_next_at = ?, send_attempts = ?, send_lease_until = NULL, "
        "updated_at = ? WHERE id = ? AND provider_task_id IS NULL",
        next_at, attempts, now_ms(), task_id,
    )  # fmt: skip
    return changed > 0
