"""What the dashboard's charts are drawn from: timestamped rows inside a window.

Each read returns `at` (epoch ms) plus the one value a chart groups or measures by;
bucketing into hours happens in `receiver.dashboard.chart_data`.
"""

from __future__ import annotations

from receiver.db import Executor, Row


async def finished_tasks(db: Executor, since_ms: int) -> list[Row]:
    """Tasks completed since `since_ms`: `at` and `status`."""
    return await db.fetchall(
        "SELECT completed_at AS at, status FROM tasks WHERE completed_at >= ?", since_ms
    )


async def failed_tasks(db: Executor, since_ms: int) -> list[Row]:
    """Tasks that failed since `since_ms`: `at` and `pm` ("provider / model")."""
    return await db.fetchall(
        "SELECT completed_at AS at, provider || ' / ' || model AS pm FROM tasks "
        "WHERE status = 'failed' AND completed_at >= ?", since_ms,
    )  # fmt: skip


async def first_delivery_latencies(db: Executor, since_ms: int, *, limit: int) -> list[Row]:
    """First deliveries made since `since_ms`, newest first: `at` and `ms` since the event."""
    return await db.fetchall(
        "SELECT d.delivered_at AS at, d.delivered_at - e.created_at AS ms FROM deliveries d "
        "JOIN events e ON e.id = d.event_id WHERE d.delivered_at >= ? AND d.generation = 0 "
        "ORDER BY d.delivered_at DESC LIMIT ?", since_ms, limit,
    )  # fmt: skip


async def subscriber_attempts(db: Executor, sub_id: str, since_ms: int, *, limit: int) -> list[Row]:
    """One subscriber's attempts since `since_ms`, newest first: `at`, `outcome`, `ms`."""
    return await db.fetchall(
        "SELECT a.started_at AS at, a.outcome, a.latency_ms AS ms FROM attempts a "
        "JOIN deliveries d ON d.id = a.delivery_id WHERE d.subscriber_id = ? "
        "AND a.started_at >= ? ORDER BY a.started_at DESC LIMIT ?",
        sub_id, since_ms, limit,
    )  # fmt: skip
