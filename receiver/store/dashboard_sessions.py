"""The dashboard_sessions table: one row per live dashboard login, keyed by a digest.

The row's id is derived from the session's nonce by `receiver.dashboard.session_store`;
the cookie itself is never stored.
"""

from __future__ import annotations

from receiver.db import Executor


async def add_session(db: Executor, session_id: str, *, now_ms: int, expires_ms: int) -> None:
    """Record a new session, and forget those expired by `now_ms`."""
    await db.execute("DELETE FROM dashboard_sessions WHERE expires_at < ?", now_ms)
    await db.execute(
        "INSERT INTO dashboard_sessions (id, created_at, expires_at) VALUES (?, ?, ?)",
        session_id, now_ms, expires_ms,
    )  # fmt: skip


async def session_exists(db: Executor, session_id: str, *, now_ms: int) -> bool:
    """True while the session's row exists and has not expired at `now_ms`."""
    row = await db.fetchone(
        "SELECT 1 AS ok FROM dashboard_sessions WHERE id = ? AND expires_at > ?",
        session_id, now_ms,
    )  # fmt: skip
    return row is not None


async def delete_session(db: Executor, session_id: str) -> None:
    """End one session (its cookie is refused from now on)."""
    await db.execute("DELETE FROM dashboard_sessions WHERE id = ?", session_id)
