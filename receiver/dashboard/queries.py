"""What the dashboard's pages show, put together from the store's reads (`store.dashboard`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from receiver.clock import now_ms
from receiver.db import Executor, Row
from receiver.errors import NotFound
from receiver.statuses import DeliveryState
from receiver.store import backlogs
from receiver.store import dashboard as store
from receiver.store.deliveries import get_delivery
from receiver.store.tasks import get_task

DAY_MS = 24 * 3600 * 1000
TASK_FILTERS = ("status", "provider", "model")
CALLBACK_FILTERS = ("provider", "verdict")
SUCCESS_STATES = ("succeeded", "delivered", "success", "ok")
DEAD_STATES: tuple[DeliveryState, ...] = ("dead",)
MAX_RECENT_ERRORS = 1000


async def tasks(db: Executor, filters: dict[str, str], *, limit: int = 100) -> list[Row]:
    """Newest tasks matching status/provider/model."""
    return await store.recent_tasks(db, [(k, filters.get(k)) for k in TASK_FILTERS], limit=limit)


async def task_choices(db: Executor) -> dict[str, list[str]]:
    """Distinct providers and models seen, for the filter menus."""
    providers, models = await store.task_providers_and_models(db)
    return {"provider": providers, "model": models}


async def task(db: Executor, task_id: str) -> Row:
    """One task; NotFound when the id names none."""
    row = await get_task(db, task_id)
    if row is None:
        raise NotFound(f"no task {task_id!r}")
    return row


async def task_history(db: Executor, task_id: str) -> list[Row]:
    """A task's timeline, oldest first."""
    return await store.task_timeline(db, task_id)


async def task_events(db: Executor, task_id: str) -> list[Row]:
    """The events a task produced."""
    return await store.task_events(db, task_id)


@dataclass
class EventView:
    """One event with its deliveries, each with its attempts."""

    event: Row
    deliveries: list[dict[str, Any]] = field(default_factory=list)


async def events(
    db: Executor, *, task_id: str = "", dead_only: bool = False, limit: int = 30
) -> list[EventView]:
    """Newest events (optionally of one task, or only those with a dead delivery)."""
    rows = await store.recent_events(
        db, task_id=task_id, with_state=DEAD_STATES if dead_only else (), limit=limit
    )
    views = {row["id"]: EventView(row) for row in rows}
    for delivery in await _deliveries_of(db, list(views)):
        views[delivery["event_id"]].deliveries.append(delivery)
    return list(views.values())


async def _deliveries_of(db: Executor, event_ids: list[str]) -> list[dict[str, Any]]:
    rows = await store.deliveries_of_events(db, event_ids)
    found = [dict(row, attempts=[]) for row in rows]
    by_id = {d["id"]: d for d in found}
    for attempt in await store.attempts_in_order(db, list(by_id)):
        by_id[attempt["delivery_id"]]["attempts"].append(attempt)
    return found


async def subscribers(db: Executor, *, since_ms: int | None = None) -> list[dict[str, Any]]:
    """Subscribers with their health over the last 24 h (success rate, last error)."""
    since = since_ms if since_ms is not None else now_ms() - DAY_MS
    rows = await store.all_subscribers(db)
    stats = await store.attempt_counts_since(db, since)
    errors = await store.failed_attempts_since(db, since, limit=MAX_RECENT_ERRORS)
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
    wanted = [(k, filters.get(k)) for k in CALLBACK_FILTERS]
    return await store.recent_callbacks(db, wanted, limit=limit)


async def callback_choices(db: Executor) -> dict[str, list[str]]:
    """Distinct providers and verdicts in the audit log, for the filter menus."""
    providers, verdicts = await store.callback_providers_and_verdicts(db)
    return {"provider": providers, "verdict": verdicts}


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
    return Overview(
        tasks_by_status=await store.tasks_by_status_since(db, since),
        deliveries_by_state=await store.deliveries_by_state_since(db, since),
        queues=await _queues(db, now),
    )


async def _queues(db: Executor, now: int) -> dict[str, int]:
    """The queue depths now, by the name the overview shows."""
    states = await backlogs.deliveries_by_state(db, ("pending", *DEAD_STATES))
    return {
        "tasks in flight": await backlogs.tasks_in_flight(db),
        "polls due": await backlogs.polls_due(db, now),
        "callbacks to process": await backlogs.inbox_unprocessed(db),
        "deliveries pending": states["pending"],
        "deliveries due now": await backlogs.deliveries_due(db, now),
        "dead deliveries": sum(states[state] for state in DEAD_STATES),
    }


async def delivery(db: Executor, delivery_id: str) -> Row:
    """One delivery; NotFound when the id names none."""
    row = await get_delivery(db, delivery_id)
    if row is None:
        raise NotFound(f"no delivery {delivery_id!r}")
    return row
