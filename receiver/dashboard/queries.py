"""The dashboard's own queries, straight on the tables (reads, plus pause/resume)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from receiver.clock import now_ms
from receiver.db import Executor, Row
from receiver.errors import NotFound

DAY_MS = 24 * 3600 * 1000
TASK_FILTERS = ("status", "provider", "model")
CALLBACK_FILTERS = ("provider", "verdict")
SUCCESS_STATES = ("succeeded", "delivered", "success", "ok")
DEAD_STATES = ("dead",)


def _where(filters: Sequence[tuple[str, Any]]) -> tuple[str, list[Any]]:
    """` WHERE a = ? AND b = ?` for (column, value) pairs whose value is set."""
    pairs = [(column, value) for column, value in filters if value]
    if not pairs:
        return "", []
    return " WHERE " + " AND ".join(f"{c} = ?" for c, _ in pairs), [v for _, v in pairs]


def _in(values: Sequence[Any]) -> str:
    return "(" + ", ".join("?" for _ in values) + ")"


async def tasks(db: Executor, filters: dict[str, str], *, limit: int = 100) -> list[Row]:
    """Newest tasks matching status/provider/model."""
    clause, args = _where([(k, filters.get(k)) for k in TASK_FILTERS])
    return await db.fetchall(f"SELECT * FROM tasks{clause} ORDER BY id DESC LIMIT ?", *args, limit)


async def task_choices(db: Executor) -> dict[str, list[str]]:
    """Distinct providers and models seen, for the filter menus."""
    providers = await db.fetchall("SELECT DISTINCT provider FROM tasks ORDER BY provider LIMIT 50")
    models = await db.fetchall("SELECT DISTINCT model FROM tasks ORDER BY model LIMIT 200")
    return {
        "provider": [r["provider"] for r in providers],
        "model": [r["model"] for r in models],
    }


async def task(db: Executor, task_id: str) -> Row:
    """One task; NotFound when the id names none."""
    row = await db.fetchone("SELECT * FROM tasks WHERE id = ?", task_id)
    if row is None:
        raise NotFound(f"no task {task_id!r}")
    return row


async def task_history(db: Executor, task_id: str) -> list[Row]:
    """A task's timeline, oldest first."""
    return await db.fetchall(
        "SELECT kind, detail, at FROM task_history WHERE task_id = ? ORDER BY at, id", task_id
    )


async def task_events(db: Executor, task_id: str) -> list[Row]:
    """The events a task produced."""
    return await db.fetchall(
        "SELECT id, type, source, created_at FROM events WHERE task_id = ? ORDER BY id", task_id
    )


@dataclass
class EventView:
    """One event with its deliveries, each with its attempts."""

    event: Row
    deliveries: list[dict[str, Any]] = field(default_factory=list)


async def events(
    db: Executor, *, task_id: str = "", dead_only: bool = False, limit: int = 30
) -> list[EventView]:
    """Newest events (optionally of one task, or only those with a dead delivery)."""
    where, args = _where([("task_id", task_id)])
    if dead_only:
        where += (" AND " if where else " WHERE ") + (
            f"id IN (SELECT event_id FROM deliveries WHERE state IN {_in(DEAD_STATES)})"
        )
        args += list(DEAD_STATES)
    rows = await db.fetchall(f"SELECT * FROM events{where} ORDER BY id DESC LIMIT ?", *args, limit)
    views = {row["id"]: EventView(row) for row in rows}
    for delivery in await _deliveries_of(db, list(views)):
        views[delivery["event_id"]].deliveries.append(delivery)
    return list(views.values())


async def _deliveries_of(db: Executor, event_ids: list[str]) -> list[dict[str, Any]]:
    if not event_ids:
        return []
    rows = await db.fetchall(
        "SELECT d.*, s.url AS subscriber_url, s.kind AS subscriber_kind FROM deliveries d "
        "LEFT JOIN subscribers s ON s.id = d.subscriber_id "
        f"WHERE d.event_id IN {_in(event_ids)} ORDER BY d.subscriber_id, d.generation",
        *event_ids,
    )
    found = [dict(row, attempts=[]) for row in rows]
    by_id = {d["id"]: d for d in found}
    if by_id:
        attempts = await db.fetchall(
            f"SELECT * FROM attempts WHERE delivery_id IN {_in(list(by_id))} "
            "ORDER BY delivery_id, attempt_no, id",
            *by_id,
        )
        for attempt in attempts:
            by_id[attempt["delivery_id"]]["attempts"].append(attempt)
    return found


async def subscribers(db: Executor, *, since_ms: int | None = None) -> list[dict[str, Any]]:
    """Subscribers with their health over the last 24 h (success rate, last error)."""
    since = since_ms if since_ms is not None else now_ms() - DAY_MS
    rows = await db.fetchall("SELECT * FROM subscribers ORDER BY created_at, id")
    stats = await db.fetchall(
        "SELECT d.subscriber_id AS sid, COUNT(*) AS total, "
        "SUM(CASE WHEN a.status_code >= 200 AND a.status_code < 300 THEN 1 ELSE 0 END) AS ok "
        "FROM attempts a JOIN deliveries d ON d.id = a.delivery_id "
        "WHERE a.started_at >= ? GROUP BY d.subscriber_id",
        since,
    )
    errors = await db.fetchall(
        "SELECT d.subscriber_id AS sid, a.error, a.status_code, a.started_at "
        "FROM attempts a JOIN deliveries d ON d.id = a.delivery_id "
        "WHERE a.started_at >= ? AND (a.error IS NOT NULL OR a.status_code IS NULL "
        "OR a.status_code < 200 OR a.status_code >= 300) "
        "ORDER BY a.started_at DESC LIMIT 1000",
        since,
    )
    by_sid = {s["sid"]: s for s in stats}
    last_error: dict[str, Row] = {}
    for err in errors:
        last_error.setdefault(err["sid"], err)
    return [_with_health(row, by_sid.get(row["id"]), last_error.get(row["id"])) for row in rows]


def _with_health(row: Row, stat: Row | None, error: Row | None) -> dict[str, Any]:
    total = int(stat["total"]) if stat else 0
    ok = int(stat["ok"] or 0) if stat else 0
    return dict(row, attempts_24h=total, ok_24h=ok, last_error=error)


async def callbacks(db: Executor, filters: dict[str, str], *, limit: int = 100) -> list[Row]:
    """Newest audit rows of inbound callbacks."""
    clause, args = _where([(k, filters.get(k)) for k in CALLBACK_FILTERS])
    return await db.fetchall(
        f"SELECT * FROM callbacks{clause} ORDER BY received_at DESC, id DESC LIMIT ?", *args, limit
    )


async def callback_choices(db: Executor) -> dict[str, list[str]]:
    """Distinct providers and verdicts in the audit log, for the filter menus."""
    providers = await db.fetchall("SELECT DISTINCT provider FROM callbacks ORDER BY provider")
    verdicts = await db.fetchall("SELECT DISTINCT verdict FROM callbacks ORDER BY verdict")
    return {
        "provider": [r["provider"] for r in providers],
        "verdict": [r["verdict"] for r in verdicts],
    }


@dataclass(frozen=True)
class Overview:
    """Counts for the overview page."""

    tasks_by_status: dict[str, int]
    deliveries_by_state: dict[str, int]
    queues: dict[str, int]


async def overview(db: Executor, *, now: int | None = None) -> Overview:
    """Tasks per status and deliveries per state over 24 h, and the queue depths now."""
    now = now if now is not None else now_ms()
    since = now - DAY_MS
    tasks_rows = await db.fetchall(
        "SELECT status, COUNT(*) AS n FROM tasks WHERE created_at >= ? GROUP BY status", since
    )
    delivery_rows = await db.fetchall(
        "SELECT state, COUNT(*) AS n FROM deliveries WHERE updated_at >= ? GROUP BY state", since
    )
    return Overview(
        tasks_by_status={r["status"]: int(r["n"]) for r in tasks_rows},
        deliveries_by_state={r["state"]: int(r["n"]) for r in delivery_rows},
        queues=await _queues(db, now),
    )


async def _queues(db: Executor, now: int) -> dict[str, int]:
    queries = {
        "tasks in flight": (
            "SELECT COUNT(*) AS n FROM tasks WHERE status IN ('submitted', 'running')",
            (),
        ),
        "polls due": ("SELECT COUNT(*) AS n FROM tasks WHERE next_poll_at <= ?", (now,)),
        "callbacks to process": ("SELECT COUNT(*) AS n FROM inbox WHERE processed_at IS NULL", ()),
        "deliveries pending": ("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'", ()),
        "deliveries due now": (
            "SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending' AND due_at <= ?",
            (now,),
        ),
        "dead deliveries": (
            f"SELECT COUNT(*) AS n FROM deliveries WHERE state IN {_in(DEAD_STATES)}",
            DEAD_STATES,
        ),
    }
    out: dict[str, int] = {}
    for name, (sql, args) in queries.items():
        row = await db.fetchone(sql, *args)
        out[name] = int(row["n"]) if row else 0
    return out


async def delivery(db: Executor, delivery_id: str) -> Row:
    """One delivery; NotFound when the id names none."""
    row = await db.fetchone("SELECT * FROM deliveries WHERE id = ?", delivery_id)
    if row is None:
        raise NotFound(f"no delivery {delivery_id!r}")
    return row


async def set_paused(db: Executor, subscriber_id: str, *, paused: bool) -> None:
    """Pause or resume a subscriber (a paused one queues its deliveries)."""
    changed = await db.execute(
        "UPDATE subscribers SET paused = ?, updated_at = ? WHERE id = ?",
        int(paused),
        now_ms(),
        subscriber_id,
    )
    if not changed:
        raise NotFound(f"no subscriber {subscriber_id!r}")
