"""The `inbox` table: authenticated callbacks, committed before the 2xx, processed later.

A row is claimed with a lease; a crashed worker's rows become due again when the lease
runs out, and rows never claimed are simply due (so a restart picks them up).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from receiver.clock import now_ms
from receiver.db import Database, Executor, Row
from receiver.db.database import Statement
from receiver.ids import new_id


@dataclass(frozen=True)
class InboxItem:
    """An accepted callback about to be stored, with the state its body reports.

    `state` is `ProviderState.to_json()`, callback tokens redacted (the inbox worker
    reads it back with `ProviderState.from_json`); `status` is its status.
    """

    provider: str
    provider_task_id: str
    status: str
    state: str
    body: str
    signed: bool
    task_id: str | None = None

    @property
    def dedupe_key(self) -> str:
        """The same provider, task and reported state make the same key."""
        parts = json.dumps([self.provider, self.provider_task_id, self.status])
        return hashlib.sha256(parts.encode()).hexdigest()


_INSERT = (
    "INSERT INTO inbox (id, provider, task_id, provider_task_id, dedupe_key, body, state, "
    "signed, received_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING"
)


def new_inbox_id() -> str:
    """A fresh inbox row id."""
    return new_id("inb")


def inbox_insert(item: InboxItem, inbox_id: str | None = None) -> Statement:
    """The statement that stores `item` (a repeat of a stored key inserts nothing: 0 rows)."""
    now = now_ms()
    return _INSERT, (
        inbox_id or new_inbox_id(), item.provider, item.task_id, item.provider_task_id,
        item.dedupe_key, item.body, item.state, int(item.signed), now, now,
    )  # fmt: skip


async def claim_due(db: Database, *, limit: int, lease_s: float) -> list[Row]:
    """Lease up to `limit` unprocessed rows that are due, oldest first."""
    now = now_ms()

    async def claim(tx: Executor) -> list[Row]:
        return await tx.fetchall(
            "UPDATE inbox SET lease_until = ? WHERE id IN (SELECT id FROM inbox "
            "WHERE processed_at IS NULL AND next_attempt_at <= ? "
            "AND (lease_until IS NULL OR lease_until < ?) "
            f"ORDER BY next_attempt_at, id LIMIT ?{db.skip_locked}) RETURNING *",
            now + int(lease_s * 1000), now, now, limit,
        )  # fmt: skip

    return await db.run_transaction(claim)


async def renew_leases(db: Executor, inbox_ids: Sequence[str], *, lease_s: float) -> int:
    """Extend the leases of rows still being worked on (this process is alive)."""
    if not inbox_ids:
        return 0
    marks = ", ".join("?" for _ in inbox_ids)
    return await db.execute(
        f"UPDATE inbox SET lease_until = ? WHERE id IN ({marks}) AND processed_at IS NULL",
        now_ms() + int(lease_s * 1000), *inbox_ids,
    )  # fmt: skip


async def finish_row(tx: Executor, inbox_id: str) -> bool:
    """Mark a row processed, once: False when it already was (its work is done)."""
    changed = await tx.execute(
        "UPDATE inbox SET processed_at = ?, lease_until = NULL, last_error = NULL "
        "WHERE id = ? AND processed_at IS NULL",
        now_ms(), inbox_id,
    )  # fmt: skip
    return changed > 0


async def release_dedupe_key(db: Executor, inbox_id: str, recorded_status: str) -> None:
    """Key a processed row by the state it recorded, not the state its body claimed.

    When the provider's answer differed from the body's claim (e.g. "success" while still
    running), the claim must not stand in for the real callback that will later make it:
    the row's key becomes one no future callback computes.
    """
    parts = json.dumps(["recorded", inbox_id, recorded_status])
    await db.execute(
        "UPDATE inbox SET dedupe_key = ? WHERE id = ?",
        hashlib.sha256(parts.encode()).hexdigest(), inbox_id,
    )  # fmt: skip


async def mark_processed(db: Executor, inbox_id: str, *, error: str | None = None) -> None:
    """Done with a row (`error` says why it was given up, if it was)."""
    await db.execute(
        "UPDATE inbox SET processed_at = ?, lease_until = NULL, last_error = ? WHERE id = ?",
        now_ms(), error, inbox_id,
    )  # fmt: skip


async def retry_later(db: Executor, inbox_id: str, *, delay_s: float, error: str) -> None:
    """Count a failed attempt and make the row due again after `delay_s`."""
    await db.execute(
        "UPDATE inbox SET attempts = attempts + 1, next_attempt_at = ?, lease_until = NULL, "
        "last_error = ? WHERE id = ?",
        now_ms() + int(delay_s * 1000), error, inbox_id,
    )  # fmt: skip


async def purge_processed(db: Executor, *, older_than_ms: int) -> int:
    """Delete rows processed before `older_than_ms`; how many went."""
    return await db.execute(
        "DELETE FROM inbox WHERE processed_at IS NOT NULL AND processed_at < ?", older_than_ms
    )


async def unprocessed_count(db: Executor) -> int:
    """How many rows still wait to be processed."""
    row = await db.fetchone("SELECT COUNT(*) AS n FROM inbox WHERE processed_at IS NULL")
    return int(row["n"]) if row else 0
