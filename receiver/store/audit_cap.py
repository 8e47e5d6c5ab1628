"""The cap on the callback audit table's total size: the oldest rows go first."""

from __future__ import annotations

from receiver.db import Executor

_TOTAL = "SELECT COALESCE(SUM(stored_bytes), 0) AS n FROM callbacks"
# The newest row that no longer fits: every row at or before it goes.
_CUTOFF = (
    "SELECT id FROM (SELECT id, SUM(stored_bytes) OVER (ORDER BY id DESC) AS kept "
    "FROM callbacks) sized WHERE kept > ? ORDER BY id DESC LIMIT 1"
)


async def audit_bytes(db: Executor) -> int:
    """The stored size of every audit row together."""
    row = await db.fetchone(_TOTAL)
    return int(row["n"]) if row else 0


async def enforce_audit_cap(db: Executor, *, max_bytes: int) -> int:
    """Delete the oldest audit rows until the rest fit in `max_bytes`; how many went."""
    if await audit_bytes(db) <= max_bytes:
        return 0
    row = await db.fetchone(_CUTOFF, max_bytes)
    if row is None:
        return 0
    return await db.execute("DELETE FROM callbacks WHERE id <= ?", row["id"])
