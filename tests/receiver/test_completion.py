from __future__ import annotations

import asyncio

from receiver.db import Database
from receiver.store import Outcome, record_completion
from receiver.store.jsonutil import dumps
from receiver.store.tasks import NewTask, get_task, insert_task, update_progress


async def _subscriber(db: Database, sub_id: str, filt: dict[str, list[str]]) -> None:
    await db.execute(
        "INSERT INTO subscribers (id, url, kind, filter, created_at, updated_at) "
        "VALUES (?, 'http://127.0.0.1:1/x', 'webhook', ?, 0, 0)",
        sub_id,
        dumps(filt),
    )


async def test_concurrent_completions_yield_exactly_one_event(db: Database) -> None:
    task = await insert_task(db, NewTask("kie", "sora-2-characters", {"character_prompt": "hi"}))
    await _subscriber(db, "sub_a", {})
    await _subscriber(db, "sub_b", {"type": ["task.failed"]})
    outcomes = [
        Outcome(task["id"], "succeeded", "callback", result={"character_id": "c1"}),
        Outcome(task["id"], "succeeded", "poll", result={"character_id": "c1"}),
        Outcome(task["id"], "failed", "poll", error={"code": "x", "message": "y"}),
    ] * 10
    results = await asyncio.gather(*(record_completion(db, o) for o in outcomes))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    events = await db.fetchall("SELECT * FROM events WHERE task_id = ?", task["id"])
    assert len(events) == 1 and events[0]["id"] == winners[0]["id"]
    stored = await get_task(db, task["id"])
    assert stored is not None and stored["status"] == winners[0]["data"]["status"]
    deliveries = await db.fetchall("SELECT subscriber_id FROM deliveries")
    expected = {"sub_a"} | ({"sub_b"} if winners[0]["type"] == "task.failed" else set())
    assert {d["subscriber_id"] for d in deliveries} == expected
    assert len(deliveries) == len(expected)


async def test_event_carries_the_one_schema(db: Database) -> None:
    task = await insert_task(db, NewTask("foxapi", "sora-2", {"prompt": "waves"}))
    event = await record_completion(
        db, Outcome(task["id"], "succeeded", "poll", result={"video_urls": ["https://v/1.mp4"]})
    )
    assert event is not None
    assert event["type"] == "task.succeeded" and event["id"].startswith("evt_")
    data = event["data"]
    assert data["task_id"] == task["id"] and data["provider"] == "foxapi"
    assert data["status"] == "succeeded" and data["source"] == "poll"
    assert data["result"] == {"video_urls": ["https://v/1.mp4"]} and data["error"] is None
    assert data["prompt"] == "waves"


async def test_terminal_task_ignores_progress_and_second_completion(db: Database) -> None:
    task = await insert_task(db, NewTask("toapis", "sora-2", {}))
    assert await update_progress(db, task["id"], status="running", progress=40)
    await record_completion(db, Outcome(task["id"], "expired", "poll"))
    assert not await update_progress(db, task["id"], status="running", progress=50)
    assert await record_completion(db, Outcome(task["id"], "succeeded", "callback")) is None
    stored = await get_task(db, task["id"])
    assert stored is not None and stored["status"] == "expired" and stored["progress"] == 40


async def test_unique_constraint_backs_up_the_compare_and_set(db: Database) -> None:
    """Even if the status guard were bypassed, the database refuses a second terminal event."""
    task = await insert_task(db, NewTask("kie", "sora-2-characters", {}))
    first = await record_completion(db, Outcome(task["id"], "succeeded", "poll"))
    assert first is not None
    await db.execute("UPDATE tasks SET status = 'running' WHERE id = ?", task["id"])
    assert await record_completion(db, Outcome(task["id"], "failed", "poll")) is None
    assert len(await db.fetchall("SELECT id FROM events")) == 1
