"""Retention: finished tasks and their events, deliveries and attempts go after a period.

One call prunes one small batch in one short transaction, so the single SQLite writer
is never held for long. A task is kept while any delivery of its events is pending, or
dead and not replayed since (a dead letter stays for the same period after it died).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from receiver.db import Database, Executor
from receiver.statuses import TERMINAL, in_sql

_FINISHED = in_sql("t.status", TERMINAL)
# deliveries that keep their event (and its task): pending, or a recent unreplayed dead letter
_HELD = (
    "SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND (d.state = 'pending' OR "
    "(d.state = 'dead' AND d.updated_at >= ? AND NOT EXISTS (SELECT 1 FROM deliveries n "
    "WHERE n.event_id = d.event_id AND n.subscriber_id = d.subscriber_id "
    "AND n.generation > d.generation)))"
)
TABLES = ("attempts", "deliveries", "events", "task_history", "tasks")


@dataclass
class Pruned:
    """Rows deleted per table in one batch, and how many tasks/events it started from."""

    picked: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, count: int) -> None:
        """Count `count` rows deleted from `table`."""
        if count:
            self.rows[table] = self.rows.get(table, 0) + count


async def old_task_ids(db: Executor, cutoff_ms: int, limit: int) -> list[str]:
    """Up to `limit` finished tasks completed before `cutoff_ms` that nothing holds."""
    rows = await db.fetchall(
        f"SELECT t.id FROM tasks t WHERE t.completed_at < ? AND {_FINISHED} "
        f"AND NOT EXISTS (SELECT 1 FROM events e WHERE e.task_id = t.id AND EXISTS ({_HELD})) "
        "ORDER BY t.completed_at LIMIT ?",
        cutoff_ms, cutoff_ms, limit,
    )  # fmt: skip
    return [row["id"] for row in rows]


async def old_taskless_event_ids(db: Executor, cutoff_ms: int, limit: int) -> list[str]:
    """Up to `limit` events of no task (subscriber.disabled, ...) older than `cutoff_ms`."""
    rows = await db.fetchall(
        f"SELECT e.id FROM events e WHERE e.task_id IS NULL AND e.created_at < ? "
        f"AND NOT EXISTS ({_HELD}) ORDER BY e.created_at LIMIT ?",
        cutoff_ms, cutoff_ms, limit,
    )  # fmt: skip
    return [row["id"] for row in rows]


def _marks(ids: Sequence[str]) -> str:
    return ", ".join("?" for _ in ids)


async def _delete_events(tx: Executor, events_sql: str, ids: Sequence[str], out: Pruned) -> None:
    """Delete the events `events_sql` selects (with `ids`), their deliveries and attempts."""
    out.add("attempts", await tx.execute(
        "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE "
        f"event_id IN ({events_sql}))", *ids,
    ))  # fmt: skip
    out.add("deliveries", await tx.execute(
        f"DELETE FROM deliveries WHERE event_id IN ({events_sql})", *ids
    ))  # fmt: skip
    out.add("events", await tx.execute(f"DELETE FROM events WHERE id IN ({events_sql})", *ids))


async def prune_tasks(db: Database, cutoff_ms: int, limit: int) -> Pruned:
    """Delete one batch of old finished tasks with everything that hangs off them."""
    out = Pruned()
    async with db.transaction() as tx:
        ids = await old_task_ids(tx, cutoff_ms, limit)
        out.picked = len(ids)
        if not ids:
            return out
        marks = _marks(ids)
        await _delete_events(tx, f"SELECT id FROM events WHERE task_id IN ({marks})", ids, out)
        out.add("task_history", await tx.execute(
            f"DELETE FROM task_history WHERE task_id IN ({marks})", *ids
        ))  # fmt: skip
        out.add("tasks", await tx.execute(f"DELETE FROM tasks WHERE id IN ({marks})", *ids))
    return out


async def prune_taskless_events(db: Database, cutoff_ms: int, limit: int) -> Pruned:
    """Delete one batch of old events that belong to no task."""
    out = Pruned()
    async with db.transaction() as tx:
        ids = await old_taskless_event_ids(tx, cutoff_ms, limit)
        out.picked = len(ids)
        if ids:
            marks = _marks(ids)
            await _delete_events(tx, f"SELECT id FROM events WHERE id IN ({marks})", ids, out)
    return out
