"""Dashboard sessions on the server: a signed cookie is valid only while its row exists.

Logging in adds a row (keyed by a digest of the session's nonce, never the cookie itself);
logging out deletes it, so a copied cookie stops working at logout. Changing the admin
token changes the cookies' signing key, which ends every session.
"""

from __future__ import annotations

import hashlib

from receiver.clock import now_ms
from receiver.db import Executor
from receiver.store import dashboard_sessions as store


def session_id(nonce: str) -> str:
    """The row id of the session with `nonce`."""
    return hashlib.sha256(f"taskhook session {nonce}".encode()).hexdigest()


async def add_session(db: Executor, nonce: str, *, expires_s: int) -> None:
    """Record a new session (and forget the expired ones)."""
    await store.add_session(db, session_id(nonce), now_ms=now_ms(), expires_ms=expires_s * 1000)


async def session_alive(db: Executor, nonce: str) -> bool:
    """True while the session exists on the server and has not expired."""
    return await store.session_exists(db, session_id(nonce), now_ms=now_ms())


async def revoke_session(db: Executor, nonce: str) -> None:
    """End one session on the server (its cookie is refused from now on)."""
    await store.delete_session(db, session_id(nonce))
