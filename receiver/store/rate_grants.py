"""The `rate_grants` table: a sliding rate window shared by every process on one database.

A window allows at most N grants in any span of S seconds (plus a small margin, below).
Taking a grant is one short transaction: lock the key (PostgreSQL: a transaction-scoped
advisory lock; SQLite's `BEGIN IMMEDIATE` already admits one writer), read the N-th latest
grant, and write the new one at the first moment the window allows. Grants older than
one window are deleted as they stop mattering, so the table holds about N rows per key.
"""

from __future__ import annotations

from receiver.clock import now_ms
from receiver.db import Database, Executor

# Grants are spaced this much wider than the window itself: a process that takes its grant
# a few milliseconds late (a busy event loop) must not let the provider, which counts
# arrivals, see N + 1 requests inside one window.
MARGIN_MS = 50


async def reserve_grant(
    db: Database, key: str, requests: int, per_s: float, *, only_if_free: bool = False
) -> float:
    """Reserve the next free moment in `key`'s window; seconds until it (0 = now).

    `only_if_free`: take a grant only when one is free now; otherwise reserve nothing
    and return how long until one is.
    """
    per_ms = int(per_s * 1000)
    now = now_ms()
    async with db.transaction() as tx:
        if db.dialect == "postgres":
            await tx.fetchone("SELECT pg_advisory_xact_lock(hashtext(?))", f"rate:{key}")
        at = await _next_free(tx, key, requests, per_ms, now)
        if only_if_free and at > now:
            return (at - now) / 1000
        await tx.execute("INSERT INTO rate_grants (grant_key, at_ms) VALUES (?, ?)", key, at)
        await tx.execute(
            "DELETE FROM rate_grants WHERE grant_key = ? AND at_ms < ?", key, now - per_ms
        )
    return (at - now) / 1000


async def _next_free(tx: Executor, key: str, requests: int, per_ms: int, now: int) -> int:
    """The first moment >= now at which one more grant keeps the window within its limit."""
    row = await tx.fetchone(
        "SELECT at_ms FROM rate_grants WHERE grant_key = ? ORDER BY at_ms DESC LIMIT 1 OFFSET ?",
        key, requests - 1,
    )  # fmt: skip
    return now if row is None else max(now, int(row["at_ms"]) + per_ms + MARGIN_MS)
