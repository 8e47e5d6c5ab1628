"""Progress estimates for tasks whose provider reports none yet (foxapi before its first
poll, kie between callbacks): elapsed time against the expected duration, marked as an
estimate. The expected duration is the provider's `estimated_time`, else the median
duration of the same model's recent succeeded tasks."""

from __future__ import annotations

import statistics
from typing import Any

from receiver.clock import now_ms
from receiver.db import Executor, Row

RECENT_TASKS = 20
MAX_ESTIMATE = 95  # an estimate never claims the task is done


async def expected_ms(
    tx: Executor, provider: str, model: str, estimated_s: float | None
) -> tuple[int | None, str | None]:
    """(expected duration in ms, its basis: `provider` or `median`), or (None, None)."""
    if estimated_s and estimated_s > 0:
        return int(estimated_s * 1000), "provider"
    rows = await tx.fetchall(
        "SELECT completed_at - started_at AS took FROM tasks WHERE provider = ? AND model = ? "
        "AND status = 'succeeded' AND started_at IS NOT NULL AND completed_at IS NOT NULL "
        "ORDER BY completed_at DESC LIMIT ?",
        provider, model, RECENT_TASKS,
    )  # fmt: skip
    took = [int(r["took"]) for r in rows if r["took"] is not None and r["took"] > 0]
    if not took:
        return None, None
    return int(statistics.median(took)), "median"


def progress_estimate(row: Row, now: int | None = None) -> dict[str, Any] | None:
    """`{"progress", "expected_s", "estimated": true}` while the provider reports 0%, else None."""
    expected, started = row.get("expected_ms"), row.get("started_at")
    if row.get("status") not in ("submitted", "running") or row.get("progress"):
        return None
    if not expected or not started:
        return None
    elapsed = max(0, (now_ms() if now is None else now) - int(started))
    progress = min(MAX_ESTIMATE, int(elapsed * 100 / int(expected)))
    return {"progress": progress, "expected_s": round(int(expected) / 1000, 1), "estimated": True}
