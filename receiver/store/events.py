"""The events table and the one way events are born: with their deliveries, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from receiver.clock import now_ms, rfc3339
from receiver.db import Executor, Row
from receiver.ids import new_id
from receiver.store.jsonutil import dumps, loads
from receiver.store.pagination import Page, fetch_page
from receiver.store.subscribers import OPT_IN_TYPES, matching_subscribers

EVENT_TYPES: tuple[str, ...] = (
    "task.succeeded", "task.failed", "task.expired", "subscriber.disabled",
)  # fmt: skip
EVENT_TYPES += ("delivery.exhausted",)
ALL_EVENT_TYPES = EVENT_TYPES + OPT_IN_TYPES  # opt-in ones: only when a filter names them


async def emit_event(
    tx: Executor,
    event_type: str,
    data: dict[str, Any],
    *,
    task_id: str | None = None,
    terminal: bool = False,
    source: str | None = None,
    subscribers: Sequence[Row] | None = None,
) -> dict[str, Any] | None:
    """Write one event and a pending delivery per matching subscriber.

    Call inside a transaction. With `terminal=True` the database refuses a second
    terminal event for the same task: then nothing is written and None is returned.
    `subscribers` (rows with an `id`) replaces the filter match when given.
    """
    now = now_ms()
    event = {"type": event_type, "id": new_id("evt"), "created_at": rfc3339(now), "data": data}
    inserted = await tx.execute(
        "INSERT INTO events (id, task_id, type, source, payload, terminal_task_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        event["id"], task_id, event_type, source, dumps(event),
        task_id if terminal else None, now,
    )  # fmt: skip
    if not inserted:
        return None
    if subscribers is None:
        subscribers = await matching_subscribers(tx, event)
    for sub in subscribers:
        await tx.execute(
            "INSERT INTO deliveries (id, event_id, subscriber_id, generation, state, due_at, "
            "created_at, updated_at) VALUES (?, ?, ?, 0, 'pending', ?, ?, ?)",
            new_id("dlv"), event["id"], sub["id"], now, now, now,
        )  # fmt: skip
    return event


async def get_event(db: Executor, event_id: str) -> Row | None:
    """One event row by id."""
    return await db.fetchone("SELECT * FROM events WHERE id = ?", event_id)


async def list_events(
    db: Executor, filters: dict[str, str], *, limit: int, cursor: str | None
) -> Page:
    """Events, newest first, filtered by task_id and/or type."""
    pairs = [(k, v) for k, v in filters.items() if k in ("task_id", "type") and v]
    return await fetch_page(db, "events", pairs, limit=limit, cursor=cursor)


def event_to_api(row: Row) -> dict[str, Any]:
    """The event object exactly as subscribers receive it."""
    payload: dict[str, Any] = loads(row["payload"])
    return payload
