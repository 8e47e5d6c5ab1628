"""Rows written straight into the store for the dashboard tests (unit and browser)."""

from __future__ import annotations

import json
from typing import Any

from receiver.clock import now_ms
from receiver.db import Executor
from receiver.ids import new_id
from receiver.store.tasks import NewTask, add_history, insert_task

XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"


async def seed_task(
    db: Executor, *, status: str = "running", progress: int = 40, **fields: Any
) -> str:
    """A task with a prompt carrying the HTML payload."""
    row = await insert_task(
        db, NewTask("kie", fields.pop("model", "sora-2-text-to-video"), {"prompt": XSS})
    )
    await db.execute(
        "UPDATE tasks SET status = ?, progress = ?, provider_task_id = ? WHERE id = ?",
        status, progress, f"kie-{row['id'][-6:]}", row["id"],
    )  # fmt: skip
    await add_history(db, row["id"], "submitted", {"provider_task_id": f"kie-{row['id'][-6:]}"})
    for column, value in fields.items():
        await db.execute(f"UPDATE tasks SET {column} = ? WHERE id = ?", value, row["id"])
    return str(row["id"])


async def complete_task(db: Executor, task_id: str, result: dict[str, Any], **fields: Any) -> None:
    """Mark a task succeeded with `result` (what a poll or callback would have written)."""
    now = now_ms()
    await db.execute(
        "UPDATE tasks SET status = 'succeeded', progress = 100, result = ?, "
        "completion_source = 'callback', completed_at = ?, updated_at = ? WHERE id = ?",
        json.dumps(result), fields.get("completed_at", now), now, task_id,
    )  # fmt: skip
    await add_history(db, task_id, "completion", {"status": "succeeded", "source": "callback"})


async def seed_subscriber(
    db: Executor, url: str = "https://hooks.example.test/in", *, kind: str = "webhook"
) -> str:
    """An enabled, unpaused subscriber with a provider filter."""
    sid, now = new_id("sub"), now_ms()
    await db.execute(
        "INSERT INTO subscribers (id, url, kind, filter, enabled, paused, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 1, 0, ?, ?)",
        sid, url, kind, json.dumps({"provider": ["kie"]}), now, now,
    )  # fmt: skip
    return sid


async def seed_event(db: Executor, task_id: str) -> str:
    """A task.succeeded event for `task_id`."""
    eid, now = new_id("evt"), now_ms()
    payload = {"type": "task.succeeded", "id": eid, "data": {"task_id": task_id, "prompt": XSS}}
    await db.execute(
        "INSERT INTO events (id, task_id, type, source, payload, created_at) "
        "VALUES (?, ?, 'task.succeeded', 'callback', ?, ?)",
        eid, task_id, json.dumps(payload), now,
    )  # fmt: skip
    return eid


async def seed_delivery(
    db: Executor, event_id: str, subscriber_id: str, *, state: str = "dead", attempts: int = 2
) -> str:
    """A delivery in `state` with `attempts` failed attempts (HTTP 500)."""
    did, now = new_id("dlv"), now_ms()
    await db.execute(
        "INSERT INTO deliveries (id, event_id, subscriber_id, generation, state, attempt_count, "
        "due_at, last_status, last_error, created_at, updated_at) "
        "VALUES (?, ?, ?, 0, ?, ?, ?, 500, ?, ?, ?)",
        did, event_id, subscriber_id, state, attempts, now, "HTTP 500: " + XSS, now, now,
    )  # fmt: skip
    for n in range(1, attempts + 1):
        await db.execute(
            "INSERT INTO attempts (id, delivery_id, attempt_no, started_at, status_code, "
            "latency_ms, outcome, error) VALUES (?, ?, ?, ?, 500, 12, 'failed', ?)",
            new_id("att"), did, n, now - 1000 * (attempts - n), "server said " + XSS,
        )  # fmt: skip
    return did


async def seed_callback(db: Executor, task_id: str | None = None) -> str:
    """A rejected callback audit row whose body and headers carry the HTML payload."""
    cid = new_id("cbk")
    headers = {"content-type": "application/json", "x-evil": XSS, "authorization": "[redacted]"}
    body = json.dumps({"code": 200, "data": {"taskId": "abc", "msg": XSS}})
    await db.execute(
        "INSERT INTO callbacks (id, provider, route, headers, body, verdict, reason, "
        "status_code, task_id, received_at) VALUES (?, 'kie', ?, ?, ?, 'rejected', ?, 401, ?, ?)",
        cid, "/callbacks/kie", json.dumps(headers), body, "bad signature " + XSS, task_id,
        now_ms(),
    )  # fmt: skip
    return cid
