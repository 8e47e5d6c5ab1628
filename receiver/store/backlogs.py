"""How much work waits in the store right now: the counts behind the gauges and the dashboard.

Each is one indexed aggregate query over the shared store, so every instance on one
database reports the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from receiver.db import Executor
from receiver.statuses import ACTIVE_SQL, NOT_TERMINAL_SQL, DeliveryState, in_sql


async def _count(db: Executor, sql: str, *args: object) -> int:
    row = await db.fetchone(sql, *args)
    return int(row["n"]) if row else 0


async def deliveries_by_state(
    db: Executor, states: Sequence[DeliveryState]
) -> dict[DeliveryState, int]:
    """How many deliveries are in each of `states` (0 for a state with none)."""
    rows = await db.fetchall(
        f"SELECT state, COUNT(*) AS n FROM deliveries WHERE {in_sql('state', states)} "
        "GROUP BY state"
    )
    found = {row["state"]: int(row["n"]) for row in rows}
    return {state: found.get(state, 0) for state in states}


async def oldest_pending_delivery_ms(db: Executor) -> int | None:
    """When the oldest delivery still pending was created (None when none is)."""
    row = await db.fetchone(
        "SELECT MIN(created_at) AS oldest FROM deliveries WHERE state = 'pending'"
    )
    return None if row is None or row["oldest"] is None else int(row["oldest"])


async def deliveries_due(db: Executor, now_ms: int) -> int:
    """Pending deliveries whose time has come."""
    return await _count(
        db, "SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending' AND due_at <= ?", now_ms
    )


async def polls_due(db: Executor, now_ms: int) -> int:
    """Unfinished tasks whose next poll time has passed."""
    return await _count(
        db, f"SELECT COUNT(*) AS n FROM tasks WHERE next_poll_at <= ? AND {NOT_TERMINAL_SQL}",
        now_ms,
    )  # fmt: skip


async def tasks_in_flight(db: Executor) -> int:
    """Tasks not yet finished (submitted or running)."""
    return await _count(db, f"SELECT COUNT(*) AS n FROM tasks WHERE {ACTIVE_SQL}")


async def inbox_unprocessed(db: Executor) -> int:
    """Accepted callbacks not yet processed."""
    return await _count(db, "SELECT COUNT(*) AS n FROM inbox WHERE processed_at IS NULL")


async def tasks_by_provider_status(db: Executor) -> dict[tuple[str, str], int]:
    """Every task in the store counted by (provider, status)."""
    rows = await db.fetchall(
        "SELECT provider, status, COUNT(*) AS n FROM tasks GROUP BY provider, status"
    )
    return {(row["provider"], row["status"]): int(row["n"]) for row in rows}
