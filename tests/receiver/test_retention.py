"""Retention prunes old finished tasks with their rows; erasure leaves a tombstone."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from prometheus_client import generate_latest

from dispatcher.cli.main import run
from receiver.app import create_app
from receiver.clock import now_ms
from receiver.db import Database
from receiver.metrics import Metrics
from receiver.retention import RetentionPart, RetentionWorker
from receiver.settings import Settings
from receiver.store import Outcome, record_completion
from receiver.store.events import emit_event
from receiver.store.tasks import NewTask, add_history, insert_task
from tests.receiver.callback_helpers import KIE_KEY, add_task, count, kie_body, post_kie, running
from tests.receiver.retention_seed import DAY_MS, seed_old_tasks
from tests.support import app_client, wait_for


async def _age(db: Database, task_id: str, days: float) -> None:
    """Move a task's completion (and its event's deliveries) `days` into the past."""
    then = now_ms() - int(days * DAY_MS)
    await db.execute("UPDATE tasks SET completed_at = ? WHERE id = ?", then, task_id)
    await db.execute(
        "UPDATE deliveries SET updated_at = ? WHERE event_id IN "
        "(SELECT id FROM events WHERE task_id = ?)", then, task_id,
    )  # fmt: skip


async def _finished(db: Database, status: str = "succeeded") -> tuple[str, str]:
    task = await insert_task(db, NewTask("kie", "sora-2", {"prompt": "a secret plan"}))
    result = {"video_urls": ["https://cdn.example/v.mp4"]} if status == "succeeded" else None
    event = await record_completion(db, Outcome(task["id"], status, "callback", result=result))
    assert event is not None
    await add_history(db, task["id"], "note", {"x": 1})
    return task["id"], event["id"]


async def _delivery(db: Database, event_id: str, state: str, generation: int = 0) -> None:
    now = now_ms()
    await db.execute(
        "INSERT INTO deliveries (id, event_id, subscriber_id, generation, state, due_at, "
        "created_at, updated_at) VALUES (?, ?, 'sub_x', ?, ?, ?, ?, ?)",
        f"dlv_{event_id}_{generation}", event_id, generation, state, now, now, now,
    )  # fmt: skip


async def _exists(db: Database, task_id: str) -> bool:
    return await count(db, "tasks", "WHERE id = ?", task_id) == 1


async def test_old_finished_tasks_go_with_their_rows_and_held_ones_stay(db: Database) -> None:
    gone, gone_event = await _finished(db)
    await _delivery(db, gone_event, "delivered")
    await db.execute(
        "INSERT INTO attempts (id, delivery_id, attempt_no, started_at, outcome) "
        "VALUES ('att_1', ?, 1, 0, 'delivered')", f"dlv_{gone_event}_0",
    )  # fmt: skip
    recent, _ = await _finished(db)
    pending, pending_event = await _finished(db, "failed")
    await _delivery(db, pending_event, "pending")
    dead, dead_event = await _finished(db)
    await _delivery(db, dead_event, "dead")
    replayed, replayed_event = await _finished(db)
    await _delivery(db, replayed_event, "dead")
    await _delivery(db, replayed_event, "delivered", generation=1)
    running_task = await insert_task(db, NewTask("kie", "sora-2", {}))
    for task_id in (gone, pending, replayed):
        await _age(db, task_id, 100)
    await _age(db, dead, 100)
    recently = now_ms()
    sql = "UPDATE deliveries SET updated_at = ? WHERE event_id = ?"
    await db.execute(sql, recently, dead_event)
    await db.execute("UPDATE tasks SET created_at = 0 WHERE id = ?", running_task["id"])
    async with db.transaction() as tx:
        await emit_event(tx, "subscriber.disabled", {"subscriber_id": "sub_x"})
    await db.execute("UPDATE events SET created_at = 1 WHERE task_id IS NULL")

    metrics = Metrics()
    worker = RetentionWorker(db, 90, metrics, batch_size=2)
    while await worker.run_once():
        pass

    assert not await _exists(db, gone) and not await _exists(db, replayed)
    for kept in (recent, pending, dead, running_task["id"]):
        assert await _exists(db, kept), kept
    assert await count(db, "events", "WHERE task_id IN (?, ?)", gone, replayed) == 0
    assert await count(db, "events", "WHERE task_id IS NULL") == 0
    assert await count(db, "deliveries", "WHERE event_id = ?", gone_event) == 0
    assert await count(db, "attempts") == 0
    assert await count(db, "task_history", "WHERE task_id = ?", gone) == 0
    text = generate_latest(metrics.registry).decode()
    assert 'taskhook_retention_pruned_total{table="tasks"} 2.0' in text
    assert 'taskhook_retention_pruned_total{table="events"} 3.0' in text


async def test_zero_days_keeps_everything(db: Database) -> None:
    task_id, _ = await _finished(db)
    await _age(db, task_id, 10_000)
    assert await RetentionWorker(db, 0).run_once() == 0
    assert await _exists(db, task_id)


async def test_erase_keeps_an_anonymous_tombstone(settings: Settings) -> None:
    app = create_app(settings.replace(workers=False), [RetentionPart()])
    async with app_client(app) as client:
        db = app.state.runtime.db
        task_id, event_id = await _finished(db)
        await _delivery(db, event_id, "pending")
        await db.execute(
            "INSERT INTO callbacks (id, provider, route, headers, body, verdict, status_code, "
            "task_id, received_at) VALUES ('cb_1', 'kie', 'r', '{}', 'a secret plan', "
            "'accepted', 200, ?, 0)", task_id,
        )  # fmt: skip
        answer = await client.delete(f"/api/tasks/{task_id}")
        assert answer.status_code == 200
        body = answer.json()
        assert body["input"] == {} and body["result"] is None and body["erased_at"]
        assert body["status"] == "succeeded" and body["provider"] == "kie"
        shown = await client.get(f"/api/tasks/{task_id}")
        assert "a secret plan" not in shown.text and "cdn.example" not in shown.text
        event = (await client.get(f"/api/events/{event_id}")).json()
        assert event["data"]["erased"] is True and "result" not in event["data"]
        assert await count(db, "callbacks", "WHERE task_id = ?", task_id) == 0
        assert await count(db, "deliveries", "WHERE state = 'pending'") == 0
        unfinished = await insert_task(db, NewTask("kie", "sora-2", {"prompt": "p"}))
        refused = await client.delete(f"/api/tasks/{unfinished['id']}")
        assert refused.status_code == 409
        assert "still submitted" in refused.json()["error"]["message"]
        assert (await client.delete("/api/tasks/tsk_nope")).status_code == 404
        metrics = await client.get("/metrics")
        assert "taskhook_tasks_erased_total 1.0" in metrics.text


async def test_cli_erase(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "t.db")
    app = create_app(Settings(db=path, workers=False))
    async with app_client(app):
        task_id, _ = await _finished(app.state.runtime.db)
    monkeypatch.setenv("TASKHOOK_DB", path)
    assert await asyncio.to_thread(run, ["tasks", "erase", task_id]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["erased_at"] and "erased task" in out.err
    assert await asyncio.to_thread(run, ["tasks", "erase"]) == 2
    assert await asyncio.to_thread(run, ["tasks", "erase", "tsk_nope"]) == 1


@pytest.mark.slow
async def test_100k_old_rows_pruned_while_callbacks_are_acknowledged(settings: Settings) -> None:
    cfg = settings.replace(kie_webhook_key=KIE_KEY, retention_days=30)
    async with running(cfg) as (client, rt):  # the inbox worker runs; pruning is done below
        rows = await seed_old_tasks(rt.db, 25_000, now_ms() - 60 * DAY_MS)
        assert rows == 100_000
        worker = RetentionWorker(rt.db, 30, rt.metrics, batch_size=200)

        async def prune() -> int:
            total = 0
            while handled := await worker.run_once():
                total += handled
                await asyncio.sleep(0)
            return total

        pruning = asyncio.create_task(prune())
        latencies: list[float] = []
        acknowledged = 0
        while not pruning.done():
            _task, token = await add_task(rt.db, provider_task_id=f"live_{acknowledged}")
            started = time.monotonic()
            answer = await post_kie(client, kie_body(f"live_{acknowledged}"), token=token)
            latencies.append(time.monotonic() - started)
            assert answer.status_code == 200, answer.text
            acknowledged += 1
        assert await pruning == 100_000
        assert acknowledged > 0
        assert await count(rt.db, "tasks", "WHERE id LIKE 'tsk_old%'") == 0
        assert await count(rt.db, "attempts") == 0

        async def all_recorded() -> bool:
            return await count(rt.db, "events") == acknowledged

        await wait_for(all_recorded, timeout_s=60)
        print(f"\n{acknowledged} callbacks acknowledged during pruning; "
              f"slowest {max(latencies) * 1000:.0f} ms")  # fmt: skip
