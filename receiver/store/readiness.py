"""Write probes. `/readyz` commits one row update, so a read-only database or a full disk
makes it answer 503 instead of only failing the next real write; `taskhook doctor` rolls
its probe back, so that a diagnosis changes nothing."""

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


class _Rollback(Exception):
    """Ends the silent write probe's transaction without committing it."""


async def check_writable_silently(db: Database) -> None:
    """Create a table and roll it back: StoreError when the database refuses the write.

    Changes nothing, so a diagnosis (`taskhook doctor`) can run against a live store; a
    table (not a row) also proves the user may change the schema, as migrations do.
    """
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE taskhook_doctor_probe (x INTEGER)")
            raise _Rollback
    except _Rollback:
        return
