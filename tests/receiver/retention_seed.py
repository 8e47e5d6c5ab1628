"""Seeding old finished tasks in bulk (one executemany per table) for retention tests."""

from __future__ import annotations

import json

from receiver.db import Database

DAY_MS = 86_400_000


async def seed_old_tasks(db: Database, n: int, completed_at: int, prefix: str = "old") -> int:
    """`n` succeeded tasks, each with one event, one delivered delivery and one attempt.

    Returns the number of rows written (4 per task).
    """
    tasks, events, deliveries, attempts = [], [], [], []
    for i in range(n):
        task_id, event_id = f"tsk_{prefix}{i:07d}", f"evt_{prefix}{i:07d}"
        delivery_id = f"dlv_{prefix}{i:07d}"
        tasks.append((task_id, "kie", "sora-2", json.dumps({"prompt": f"p{i}"}), "succeeded",
                      "poll", completed_at, completed_at, completed_at))  # fmt: skip
        data = {"task_id": task_id}
        payload = json.dumps({"type": "task.succeeded", "id": event_id, "data": data})
        events.append((event_id, task_id, "task.succeeded", payload, task_id, completed_at))
        deliveries.append((delivery_id, event_id, "sub_x", completed_at, completed_at))
        attempts.append((f"att_{prefix}{i:07d}", delivery_id, completed_at))
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO tasks (id, provider, model, input, status, mode, created_at, updated_at, "
            "completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", tasks,
        )  # fmt: skip
        await tx.executemany(
            "INSERT INTO events (id, task_id, type, payload, terminal_task_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", events,
        )  # fmt: skip
        await tx.executemany(
            "INSERT INTO deliveries (id, event_id, subscriber_id, generation, state, "
            "attempt_count, due_at, created_at, updated_at, delivered_at) "
            "VALUES (?, ?, ?, 0, 'delivered', 1, ?, ?, ?, NULL)",
            [(d, e, s, c, c, c) for d, e, s, c, _ in deliveries],
        )  # fmt: skip
        await tx.executemany(
            "INSERT INTO attempts (id, delivery_id, attempt_no, started_at, status_code, "
            "latency_ms, outcome) VALUES (?, ?, 1, ?, 200, 5, 'delivered')", attempts,
        )  # fmt: skip
    return 4 * n
