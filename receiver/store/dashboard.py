"""What the dashboard's pages read: newest rows with simple filters, and counts over a window.

Reads only; the dashboard's buttons change state through the same functions as the API.
Filters come as (column, value) pairs whose column names are ours, never user input.
"""

from __future__ import annotations

from collections.abc import Sequence

from receiver.db import Executor, Row
from receiver.statuses import DeliveryState, in_sql

Filters = Sequence[tuple[str, str | None]]


def _where(filters: Filters) -> tuple[str, list[str]]:
    """` WHERE a = ? AND b = ?` for the (column, value) pairs whose value is set."""
    pairs = [(column, value) for column, value in filters if value]
    if not pairs:
        return "", []
    return " WHERE " + " AND ".join(f"{c} = ?" for c, _ in pairs), [v for _, v in pairs]


def _marks(values: Sequence[object]) -> str:
    return "(" + ", ".join("?" for _ in values) + ")"


async def recent_tasks(db: Executor, filters: Filters, *, limit: int) -> list[Row]:
    """The newest tasks matching `filters` (status, provider, model)."""
    clause, args = _where(filters)
    return await db.fetchall(f"SELECT * FROM tasks{clause} ORDER BY id DESC LIMIT ?", *args, limit)


async def task_providers_and_models(db: Executor) -> tuple[list[str], list[str]]:
    """The distinct providers (up to 50) and models (up to 200) of the stored tasks."""
    providers = await db.fetchall("SELECT DISTINCT provider FROM tasks ORDER BY provider LIMIT 50")
    models = await db.fetchall("SELECT DISTINCT model FROM tasks ORDER BY model LIMIT 200")
    return [r["provider"] for r in providers], [r["model"] for r in models]


async def task_timeline(db: Executor, task_id: str) -> list[Row]:
    """A task's history entries in the order they happened."""
    return await db.fetchall(
        "SELECT kind, detail, at FROM task_history WHERE task_id = ? ORDER BY at, id", task_id
    )


async def task_events(db: Executor, task_id: str) -> list[Row]:
    """The events a task produced (id, type, source, created_at), oldest first."""
    return await db.fetchall(
        "SELECT id, type, source, created_at FROM events WHERE task_id = ? ORDER BY id", task_id
    )


async def recent_events(
    db: Executor, *, task_id: str, with_state: Sequence[DeliveryState] = (), limit: int
) -> list[Row]:
    """The newest events (of one task when `task_id` is set).

    With `with_state`, only events having a delivery in one of those states.
    """
    where, args = _where([("task_id", task_id)])
    if with_state:
        where += (" AND " if where else " WHERE ") + (
            f"id IN (SELECT event_id FROM deliveries WHERE {in_sql('state', with_state)})"
        )
    return await db.fetchall(f"SELECT * FROM events{where} ORDER BY id DESC LIMIT ?", *args, limit)


async def deliveries_of_events(db: Executor, event_ids: Sequence[str]) -> list[Row]:
    """The deliveries of these events with their subscriber's URL and kind, by subscriber."""
    if not event_ids:
        return []
    return await db.fetchall(
        "SELECT d.*, s.url AS subscriber_url, s.kind AS subscriber_kind FROM deliveries d "
        "LEFT JOIN subscribers s ON s.id = d.subscriber_id "
        f"WHERE d.event_id IN {_marks(event_ids)} ORDER BY d.subscriber_id, d.generation",
        *event_ids,
    )


async def attempts_in_order(db: Executor, delivery_ids: Sequence[str]) -> list[Row]:
    """The attempts of these deliveries, by delivery and attempt number."""
    if not delivery_ids:
        return []
    return await db.fetchall(
        f"SELECT * FROM attempts WHERE delivery_id IN {_marks(delivery_ids)} "
        "ORDER BY delivery_id, attempt_no, id",
        *delivery_ids,
    )


async def all_subscribers(db: Executor) -> list[Row]:
    """Every subscriber, oldest first."""
    return await db.fetchall("SELECT * FROM subscribers ORDER BY created_at, id")


async def attempt_counts_since(db: Executor, since_ms: int) -> list[Row]:
    """Per subscriber (`sid`): attempts since `since_ms` (`total`) and the 2xx ones (`ok`)."""
    return await db.fetchall(
        "SELECT d.subscriber_id AS sid, COUNT(*) AS total, "
        "SUM(CASE WHEN a.status_code >= 200 AND a.status_code < 300 THEN 1 ELSE 0 END) AS ok "
        "FROM attempts a JOIN deliveries d ON d.id = a.delivery_id "
        "WHERE a.started_at >= ? GROUP BY d.subscriber_id",
        since_ms,
    )


async def failed_attempts_since(db: Executor, since_ms: int, *, limit: int) -> list[Row]:
    """Failed attempts since `since_ms`, newest first: `sid`, error, status_code, started_at."""
    return await db.fetchall(
        "SELECT d.subscriber_id AS sid, a.error, a.status_code, a.started_at "
        "FROM attempts a JOIN deliveries d ON d.id = a.delivery_id "
        "WHERE a.started_at >= ? AND (a.error IS NOT NULL OR a.status_code IS NULL "
        "OR a.status_code < 200 OR a.status_code >= 300) "
        "ORDER BY a.started_at DESC LIMIT ?",
        since_ms, limit,
    )  # fmt: skip


async def recent_callbacks(db: Executor, filters: Filters, *, limit: int) -> list[Row]:
    """The newest audit rows of inbound callbacks matching `filters` (provider, verdict)."""
    clause, args = _where(filters)
    return await db.fetchall(
        f"SELECT * FROM callbacks{clause} ORDER BY received_at DESC, id DESC LIMIT ?", *args, limit
    )


async def callback_providers_and_verdicts(db: Executor) -> tuple[list[str], list[str]]:
    """The distinct providers and verdicts in the callback audit log."""
    providers = await db.fetchall("SELECT DISTINCT provider FROM callbacks ORDER BY provider")
    verdicts = await db.fetchall("SELECT DISTINCT verdict FROM callbacks ORDER BY verdict")
    return [r["provider"] for r in providers], [r["verdict"] for r in verdicts]


async def tasks_by_status_since(db: Executor, since_ms: int) -> dict[str, int]:
    """Tasks created since `since_ms`, counted by status."""
    rows = await db.fetchall(
        "SELECT status, COUNT(*) AS n FROM tasks WHERE created_at >= ? GROUP BY status", since_ms
    )
    return {r["status"]: int(r["n"]) for r in rows}


async def deliveries_by_state_since(db: Executor, since_ms: int) -> dict[str, int]:
    """Deliveries changed since `since_ms`, counted by state."""
    rows = await db.fetchall(
        "SELECT state, COUNT(*) AS n FROM deliveries WHERE updated_at >= ? GROUP BY state",
        since_ms,
    )
    return {r["state"]: int(r["n"]) for r in rows}
