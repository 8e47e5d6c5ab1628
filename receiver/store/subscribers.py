"""Subscribers: who receives events, their filters, and their state.

`secret_enc` holds, encrypted (see `receiver.secretbox`), what must stay secret: the
`whsec_` signing secret of a webhook, or the full incoming-webhook URL of a Slack or
Discord subscriber (its path is a credential); then `url` holds a redacted form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from receiver.clock import now_ms, rfc3339
from receiver.db import Executor, Row
from receiver.errors import StoreError
from receiver.ids import new_id
from receiver.store.jsonutil import dumps, loads
from receiver.store.pagination import Page, fetch_page

FILTER_KEYS = ("provider", "type", "model", "status")
METADATA_PREFIX = "metadata."  # filter keys `metadata.<key>` match the task's metadata
# Event types sent only to subscribers whose type filter names them exactly.
OPT_IN_TYPES = ("task.started", "task.progress", "task.media_ready", "task.media_failed")


def filter_matches(spec: Mapping[str, Sequence[str]], event: Mapping[str, Any]) -> bool:
    """True when every filter key has a glob matching the event (keys AND, globs OR)."""
    data = event.get("data") or {}
    if event.get("type") in OPT_IN_TYPES and event.get("type") not in spec.get("type", ()):
        return False  # lifecycle and media follow-ups only when named exactly
    for key, patterns in spec.items():
        value = event.get("type") if key == "type" else _field(data, key)
        if not patterns:
            continue
        if value is None or not any(fnmatchcase(str(value), p) for p in patterns):
            return False
    return True


def _field(data: Mapping[str, Any], key: str) -> Any:
    """`provider` -> data["provider"]; `metadata.customer` -> data["metadata"]["customer"]."""
    if key.startswith(METADATA_PREFIX):
        metadata = data.get("metadata")
        return metadata.get(key[len(METADATA_PREFIX) :]) if isinstance(metadata, dict) else None
    return data.get(key)


async def matching_subscribers(db: Executor, event: Mapping[str, Any]) -> list[Row]:
    """Enabled subscribers whose filter matches `event` (paused ones included: they queue).

    Subscribers scoped to one task (per-task webhooks) see only that task's events.
    """
    task_id = (event.get("data") or {}).get("task_id")
    rows = await db.fetchall(
        "SELECT id, filter FROM subscribers WHERE enabled = 1 "
        "AND (task_id IS NULL OR task_id = ?) ORDER BY id",
        task_id,
    )
    return [row for row in rows if filter_matches(loads(row["filter"]) or {}, event)]


async def other_enabled_filters(db: Executor, sub_id: str) -> list[Row]:
    """`id` and `filter` of every enabled subscriber but `sub_id` (task-scoped ones too)."""
    return await db.fetchall(
        "SELECT id, filter FROM subscribers WHERE enabled = 1 AND id <> ? ORDER BY id", sub_id
    )


def redact_url(url: str) -> str:
    """`https://hooks.slack.com/services/***`: scheme, host and first path segment only."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    shown = f"/{segments[0]}" if segments else ""
    hidden = "/***" if len(segments) > 1 or parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{shown}{hidden}"


async def insert_subscriber(
    db: Executor,
    *,
    sub_id: str | None = None,
    url: str,
    kind: str,
    filter_spec: Mapping[str, Sequence[str]],
    secret_enc: str | None,
    headers_enc: str | None = None,
) -> Row:
    """Store a new subscriber (enabled, not paused) and return its row."""
    now = now_ms()
    sub_id = sub_id or new_id("sub")
    await db.execute(
        "INSERT INTO subscribers (id, url, kind, secret_enc, filter, enabled, paused, "
        "created_at, updated_at, headers_enc) VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?, ?)",
        sub_id, url, kind, secret_enc, dumps(dict(filter_spec)), now, now, headers_enc,
    )  # fmt: skip
    row = await get_subscriber(db, sub_id)
    if row is None:  # pragma: no cover - just inserted
        raise StoreError(f"subscriber {sub_id} vanished right after its insert")
    return row


async def get_subscriber(db: Executor, sub_id: str) -> Row | None:
    """One subscriber row by id."""
    return await db.fetchone("SELECT * FROM subscribers WHERE id = ?", sub_id)


async def list_subscribers(
    db: Executor, filters: dict[str, Any], *, limit: int, cursor: str | None
) -> Page:
    """Subscribers, newest first (filters: kind, enabled)."""
    pairs = [(k, v) for k, v in filters.items() if k in ("kind", "enabled") and v is not None]
    return await fetch_page(db, "subscribers", pairs, limit=limit, cursor=cursor)


async def update_subscriber(db: Executor, sub_id: str, **changes: Any) -> int:
    """Set columns of one subscriber (names are ours, never user input); rows changed."""
    columns = ", ".join(f"{name} = ?" for name in changes)
    return await db.execute(
        f"UPDATE subscribers SET {columns}, updated_at = ? WHERE id = ?",
        *changes.values(), now_ms(), sub_id,
    )  # fmt: skip


async def delete_subscriber(tx: Executor, sub_id: str) -> bool:
    """Remove a subscriber; its pending deliveries become dead. False if it did not exist."""
    if not await tx.execute("DELETE FROM subscribers WHERE id = ?", sub_id):
        return False
    await tx.execute(
        "UPDATE deliveries SET state = 'dead', last_error = 'subscriber removed', "
        "lease_owner = NULL, lease_until = NULL, updated_at = ? "
        "WHERE subscriber_id = ? AND state = 'pending'",
        now_ms(), sub_id,
    )  # fmt: skip
    return True


async def note_success(tx: Executor, sub_id: str) -> None:
    """A delivery succeeded: the subscriber is no longer failing."""
    await tx.execute(
        "UPDATE subscribers SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL",
        sub_id,
    )


async def note_failure(tx: Executor, sub_id: str, now: int) -> int | None:
    """A delivery failed: start the failing clock if needed; returns when it started."""
    await tx.execute(
        "UPDATE subscribers SET failing_since = ? WHERE id = ? AND failing_since IS NULL",
        now, sub_id,
    )  # fmt: skip
    row = await tx.fetchone("SELECT failing_since FROM subscribers WHERE id = ?", sub_id)
    return None if row is None else row["failing_since"]


def subscriber_to_api(row: Row) -> dict[str, Any]:
    """The public view of a subscriber: never its secret."""
    until = row.get("old_secret_until")
    return {
        "id": row["id"],
        "url": row["url"],
        "kind": row["kind"],
        "filter": loads(row["filter"]) or {},
        "enabled": bool(row["enabled"]),
        "paused": bool(row["paused"]),
        "disabled_reason": row["disabled_reason"],
        "task_id": row.get("task_id"),  # set for a per-task webhook (events of that task only)
        "failing_since": rfc3339(row["failing_since"]),
        "previous_secret_valid_until": rfc3339(until) if until and until > now_ms() else None,
        "created_at": rfc3339(row["created_at"]),
        "updated_at": rfc3339(row["updated_at"]),
        "headers": {name: "***" for name in loads(row.get("headers_enc")) or {}},
    }
