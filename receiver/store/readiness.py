"""The readiness write probe: one committed row update, so a read-only database or a full
disk makes `/readyz` answer 503 instead of only failing the next real write."""

from __future__ import annotations

from receiver.clock import now_ms
from receiver.db import Database

_PROBE = (
    "INSERT INTO readiness_probe (id, checked_at) VALUES (1, ?) "
    "ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"
)


async def check_writable(db: Database) -> None:
    """Commit one small write; StoreError when the database refuses it."""
    async with db.transaction() as tx:
        await tx.execute(_PROBE, now_ms())
