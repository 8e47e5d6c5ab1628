"""Subscriber health: every subscriber with the outcome of its latest delivery attempt."""

from __future__ import annotations

from receiver.db import Executor, Row


async def last_attempt(db: Executor, subscriber_id: str) -> Row | None:
    """The latest delivery attempt to the subscriber (outcome, status_code, error), if any."""
    return await db.fetchone(
        "SELECT a.outcome, a.status_code, a.error FROM attempts a JOIN deliveries d "
        "ON a.delivery_id = d.id WHERE d.subscriber_id = ? ORDER BY a.id DESC LIMIT 1",
        subscriber_id,
    )


async def subscriber_health(db: Executor) -> list[tuple[Row, Row | None]]:
    """Each subscriber (task-scoped ones too), oldest first, with its latest attempt."""
    subscribers = await db.fetchall("SELECT * FROM subscribers ORDER BY id")
    return [(sub, await last_attempt(db, sub["id"])) for sub in subscribers]
