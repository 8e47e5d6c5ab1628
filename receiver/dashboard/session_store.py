"""Dashboard sessions on the server: a signed cookie is valid only while its row exists.

Logging in adds a row (keyed by a digest of the session's nonce, never the cookie itself);
logging out deletes it, so a copied cookie stops working at logout. Changing the admin
token changes the cookies' signing key, which ends every session.
"""

from __future__ import annotations

import hashlib

from receiver.clock import now_ms
from receiver.db import Executor


def session_id(nonce: str) -> str:
    """The row id of the session with `nonce`."""
    return hashlib.sha256(f"taskhook session {nonce}".encode()).hexdigest()


async def add_session(db: Executor, nonce: str, *, expires_s: int) -> None:
    """Record a new session (and forget the expired ones)."""
    now = now_ms()
    await db.execute("DELETE FROM dashboard_sessions WHERE expires_at < ?", now)
    await db.execute(
        "INSERT INTO dashboard_sessions (id, created_at, expires_at) VALUES (?, ?, ?)",
        session_id(nonce), now, expires_s * 1000,
    )  # fmt: skip


async def session_alive(db: Executor, nonce: str) -> bool:
    """True while the session exists on the server and has not expired."""
    row = await db.fetchone(
        "SELECT 1 AS ok FROM dashboard_sessions WHERE id = ? AND expires_at > ?",
        session_id(nonce), now_ms(),
    )  # fmt: skip
    return row is not None


async def revoke_session(db: Executor, nonce: str) -> None:
    """End one session on the server (its cookie is refused from now on)."""
    await db.execute("DELETE FROM dashboard_sessions WHERE id = ?", session_id(nonce))
