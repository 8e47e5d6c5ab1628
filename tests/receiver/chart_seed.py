"""A few days of finished tasks, deliveries and attempts, spread over the hours, for charts."""

from __future__ import annotations

import json

from receiver.db import Database

HOUR_MS = 3_600_000
MODELS = (("kie", "sora-2-characters"), ("foxapi", "sora-2"), ("toapis", "<b>x</b>"))


async def seed_history(db: Database, sub_id: str, now: int, hours: int = 48) -> int:
    """Tasks finishing every hour for `hours` hours; returns how many were finished."""
    tasks, events, deliveries, attempts = [], [], [], []
    n = 0
    for h in range(hours):
        for k in range(1 + h % 4):
            at = now - h * HOUR_MS - k * 60_000
            status = "failed" if (h + k) % 3 == 0 else "succeeded"
            provider, model = MODELS[h % len(MODELS)]
            tid, eid, did = f"tsk_c{h:03d}{k}", f"evt_c{h:03d}{k}", f"dlv_c{h:03d}{k}"
            tasks.append((tid, provider, model, "{}", status, "poll", at, at, at))
            payload = json.dumps({"type": f"task.{status}", "id": eid, "data": {"task_id": tid}})
            events.append((eid, tid, f"task.{status}", payload, at))
            latency = 200 + 150 * k + 40 * (h % 5)
            deliveries.append((did, eid, sub_id, at, at, at + latency))
            outcome = "retry" if k == 2 else "delivered"
            attempts.append((f"att_c{h:03d}{k}", did, at + latency, latency, outcome))
            n += 1
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO tasks (id, provider, model, input, status, mode, created_at, "
            "updated_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", tasks,
        )  # fmt: skip
        await tx.executemany(
            "INSERT INTO events (id, task_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            events,
        )
        await tx.executemany(
            "INSERT INTO deliveries (id, event_id, subscriber_id, generation, state, "
            "attempt_count, due_at, created_at, updated_at, delivered_at) "
            "VALUES (?, ?, ?, 0, 'delivered', 1, ?, ?, ?, ?)",
            [(d, e, s, a, a, a, t) for d, e, s, a, _, t in deliveries],
        )  # fmt: skip
        await tx.executemany(
            "INSERT INTO attempts (id, delivery_id, attempt_no, started_at, status_code, "
            "latency_ms, outcome) VALUES (?, ?, 1, ?, 200, ?, ?)", attempts,
        )  # fmt: skip
    return n
