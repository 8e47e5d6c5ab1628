"""Deliveries (one per event, subscriber and generation) and their attempts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from receiver.clock import now_ms, rfc3339
from receiver.db import Database, Executor, Row
from receiver.errors import Conflict, InvalidInput, NotFound
from receiver.ids import new_id
from receiver.statuses import DELIVERY_STATES
from receiver.store.events import emit_event
from receiver.store.jsonutil import loads
from receiver.store.pagination import Page, fetch_page
from receiver.store.subscribers import matching_subscribers, redact_url

ERROR_CHARS = 300


async def claim_due(db: Database, owner: str, *, lease_s: float, limit: int) -> list[Row]:
    """Lease up to `limit` due deliveries of enabled, unpaused subscribers."""
    now = now_ms()

    async def claim(tx: Executor) -> list[Row]:
        return await tx.fetchall(
            "UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE id IN ("
            "SELECT id FROM deliveries WHERE state = 'pending' AND due_at <= ? "
            "AND (lease_until IS NULL OR lease_until < ?) AND subscriber_id IN "
            "(SELECT id FROM subscribers WHERE enabled = 1 AND paused = 0) "
            f"ORDER BY due_at, id LIMIT ?{db.skip_locked}) RETURNING *",
            owner, now + int(lease_s * 1000), now, now, limit,
        )  # fmt: skip

    return await db.run_transaction(claim)


async def renew_leases(db: Executor, ids: Sequence[str], owner: str, *, lease_s: float) -> int:
    """Extend the leases `owner` still holds on deliveries being sent (it is alive)."""
    if not ids:
        return 0
    marks = ", ".join("?" for _ in ids)
    return await db.execute(
        f"UPDATE deliveries SET lease_until = ? WHERE id IN ({marks}) AND lease_owner = ? "
        "AND state = 'pending'",
        now_ms() + int(lease_s * 1000), *ids, owner,
    )  # fmt: skip


async def get_delivery(db: Executor, delivery_id: str) -> Row | None:
    """One delivery row by id."""
    return await db.fetchone("SELECT * FROM deliveries WHERE id = ?", delivery_id)


async def rows_by_id(db: Executor, table: str, ids: Sequence[str]) -> dict[str, Row]:
    """Rows of `table` (ours: events, subscribers) keyed by id."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = await db.fetchall(f"SELECT * FROM {table} WHERE id IN ({marks})", *ids)
    return {row["id"]: row for row in rows}


async def defer(db: Executor, delivery_id: str, owner: str, due_at: int) -> None:
    """Put a delivery back, untried, to be due at `due_at` (e.g. rate limited locally)."""
    await db.execute(
        "UPDATE deliveries SET due_at = ?, lease_owner = NULL, lease_until = NULL "
        "WHERE id = ? AND lease_owner = ? AND state = 'pending'",
        due_at, delivery_id, owner,
    )  # fmt: skip


async def add_attempt(
    tx: Executor,
    delivery_id: str,
    attempt_no: int,
    *,
    started_at: int,
    status_code: int | None,
    latency_ms: int,
    outcome: str,
    error: str | None,
) -> None:
    """Record one attempt."""
    await tx.execute(
        "INSERT INTO attempts (id, delivery_id, attempt_no, started_at, status_code, "
        "latency_ms, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        new_id("att"), delivery_id, attempt_no, started_at, status_code, latency_ms,
        outcome, error[:ERROR_CHARS] if error else None,
    )  # fmt: skip


async def mark_delivered(tx: Executor, delivery_id: str, status_code: int, now: int) -> int:
    """The subscriber accepted it (even if a lease ran out meanwhile: it did arrive)."""
    return await tx.execute(
        "UPDATE deliveries SET state = 'delivered', attempt_count = attempt_count + 1, "
        "last_status = ?, last_error = NULL, lease_owner = NULL, lease_until = NULL, "
        "delivered_at = ?, updated_at = ? WHERE id = ? AND state <> 'delivered'",
        status_code, now, now, delivery_id,
    )  # fmt: skip


async def mark_failed(
    tx: Executor,
    delivery_id: str,
    owner: str,
    *,
    status_code: int | None,
    error: str | None,
    due_at: int | None,
) -> int:
    """A failed attempt: due again at `due_at`, or dead when None. Only while we hold it."""
    state = "pending" if due_at is not None else "dead"
    now = now_ms()
    return await tx.execute(
        "UPDATE deliveries SET state = ?, attempt_count = attempt_count + 1, last_status = ?, "
        "last_error = ?, due_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? "
        "WHERE id = ? AND lease_owner = ? AND state = 'pending'",
        state, status_code, error[:ERROR_CHARS] if error else None,
        due_at if due_at is not None else now, now, delivery_id, owner,
    )  # fmt: skip


async def disable_subscriber(tx: Executor, sub: Row, reason: str) -> dict[str, Any] | None:
    """Disable a subscriber, dead-letter its pending deliveries, emit `subscriber.disabled`.

    Returns the event, or None when the subscriber was already disabled.
    """
    now = now_ms()
    changed = await tx.execute(
        "UPDATE subscribers SET enabled = 0, disabled_reason = ?, updated_at = ? "
        "WHERE id = ? AND enabled = 1",
        reason, now, sub["id"],
    )  # fmt: skip
    if not changed:
        return None
    await tx.execute(
        "UPDATE deliveries SET state = 'dead', last_error = ?, lease_owner = NULL, "
        "lease_until = NULL, updated_at = ? WHERE subscriber_id = ? AND state = 'pending'",
        f"subscriber disabled: {reason}"[:ERROR_CHARS], now, sub["id"],
    )  # fmt: skip
    data = {"subscriber_id": sub["id"], "kind": sub["kind"], "url": redact_url(sub["url"])}
    return await emit_event(tx, "subscriber.disabled", {**data, "reason": reason})


async def list_deliveries(
    db: Executor, filters: dict[str, str], *, limit: int, cursor: str | None
) -> Page:
    """Deliveries, newest first, filtered by state / subscriber_id / event_id."""
    state = filters.get("state")
    if state and state not in DELIVERY_STATES:
        raise InvalidInput(f"state must be one of {', '.join(DELIVERY_STATES)}", field="state")
    pairs = [(k, v) for k, v in filters.items() if k in ("state", "subscriber_id", "event_id")]
    return await fetch_page(db, "deliveries", [(k, v) for k, v in pairs if v], limit=limit,
                            cursor=cursor)  # fmt: skip


async def attempts_of(db: Executor, delivery_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Attempts of each delivery, oldest first."""
    out: dict[str, list[Row]] = {d: [] for d in delivery_ids}
    if not delivery_ids:
        return out
    marks = ", ".join("?" for _ in delivery_ids)
    rows = await db.fetchall(
        f"SELECT * FROM attempts WHERE delivery_id IN ({marks}) ORDER BY id", *delivery_ids
    )
    for row in rows:
        out[row["delivery_id"]].append(row)
    return out


def attempt_to_api(row: Row) -> dict[str, Any]:
    """One attempt as the API shows it."""
    return {
        "attempt_no": row["attempt_no"],
        "at": rfc3339(row["started_at"]),
        "status_code": row["status_code"],
        "latency_ms": row["latency_ms"],
        "outcome": row["outcome"],
        "error": row["error"],
    }


def delivery_to_api(row: Row, attempts: Sequence[Row] = ()) -> dict[str, Any]:
    """One delivery with its attempts."""
    return {
        "id": row["id"],
        "event_id": row["event_id"],
        "subscriber_id": row["subscriber_id"],
        "generation": row["generation"],
        "state": row["state"],
        "attempt_count": row["attempt_count"],
        "due_at": rfc3339(row["due_at"]) if row["state"] == "pending" else None,
        "last_status": row["last_status"],
        "last_error": row["last_error"],
        "created_at": rfc3339(row["created_at"]),
        "updated_at": rfc3339(row["updated_at"]),
        "delivered_at": rfc3339(row["delivered_at"]),
        "attempts": [attempt_to_api(a) for a in attempts],
    }


async def _queue_generation(tx: Executor, event_id: str, sub_id: str, now: int) -> Row | None:
    row = await tx.fetchone(
        "SELECT MAX(generation) AS g FROM deliveries WHERE event_id = ? AND subscriber_id = ?",
        event_id, sub_id,
    )  # fmt: skip
    generation = 0 if row is None or row["g"] is None else int(row["g"]) + 1
    delivery_id = new_id("dlv")
    inserted = await tx.execute(
        "INSERT INTO deliveries (id, event_id, subscriber_id, generation, state, due_at, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING",
        delivery_id, event_id, sub_id, generation, now, now, now,
    )  # fmt: skip
    if not inserted:
        return None
    return {"id": delivery_id, "event_id": event_id, "subscriber_id": sub_id,
            "generation": generation}  # fmt: skip


async def replay_event(db: Database, event_id: str, subscriber_id: str | None = None) -> list[Row]:
    """Queue new deliveries of one event: to one subscriber, or to all that match it now."""
    async with db.transaction() as tx:
        event = await tx.fetchone("SELECT payload FROM events WHERE id = ?", event_id)
        if event is None:
            raise NotFound(f"no event {event_id!r}")
        if subscriber_id is None:
            targets = [row["id"] for row in await matching_subscribers(tx, loads(event["payload"]))]
        else:
            targets = [await _enabled_subscriber(tx, subscriber_id)]
        now = now_ms()
        queued = [await _queue_generation(tx, event_id, sub_id, now) for sub_id in targets]
    return [row for row in queued if row is not None]


async def _enabled_subscriber(tx: Executor, sub_id: str) -> str:
    row = await tx.fetchone("SELECT enabled, disabled_reason FROM subscribers WHERE id = ?", sub_id)
    if row is None:
        raise NotFound(f"no subscriber {sub_id!r}")
    if not row["enabled"]:
        raise Conflict(
            f"subscriber {sub_id} is disabled ({row['disabled_reason']}); enable it first "
            'with PATCH /api/subscribers/{id} {"enabled": true}'
        )
    return sub_id


async def replay_dead(db: Database, since_ms: int | None = None) -> list[Row]:
    """Queue a new generation for every latest dead delivery of an enabled subscriber."""
    sql = (
        "SELECT d.event_id, d.subscriber_id FROM deliveries d WHERE d.state = 'dead' "
        "AND d.subscriber_id IN (SELECT id FROM subscribers WHERE enabled = 1) "
        "AND NOT EXISTS (SELECT 1 FROM deliveries n WHERE n.event_id = d.event_id "
        "AND n.subscriber_id = d.subscriber_id AND n.generation > d.generation)"
    )
    args: list[Any] = []
    if since_ms is not None:
        sql += " AND d.updated_at >= ?"
        args.append(since_ms)
    async with db.transaction() as tx:
        dead = await tx.fetchall(sql + " ORDER BY d.id", *args)
        now = now_ms()
        queued = [
            await _queue_generation(tx, row["event_id"], row["subscriber_id"], now) for row in dead
        ]
    return [row for row in queued if row is not None]
