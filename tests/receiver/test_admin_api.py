from __future__ import annotations

from receiver.app import create_app
from receiver.settings import Settings
from receiver.store import Outcome, record_completion
from receiver.store.tasks import NewTask, insert_task
from tests.support import app_client


async def test_health_and_readiness(settings: Settings) -> None:
    async with app_client(create_app(settings), token=None) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_api_requires_the_bearer_token(settings: Settings) -> None:
    async with app_client(create_app(settings), token=None) as client:
        missing = await client.get("/api/tasks")
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "unauthorized"
        wrong = await client.get("/api/tasks", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        assert wrong.json()["error"]["code"] == "forbidden"
        basic = await client.get("/api/events", headers={"Authorization": "Basic abc"})
        assert basic.status_code == 401


async def test_tasks_paginate_newest_first_without_gaps(settings: Settings) -> None:
    app = create_app(settings)
    async with app_client(app) as client:
        db = app.state.runtime.db
        ids = [(await insert_task(db, NewTask("kie", "m", {"n": i})))["id"] for i in range(7)]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/api/tasks", params=params)).json()
            seen += [t["id"] for t in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(ids))
        bad = await client.get("/api/tasks", params={"limit": "0"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "limit"
        garbage = await client.get("/api/tasks", params={"cursor": "!!!"})
        assert garbage.status_code == 422


async def test_filters_and_detail_and_json_404(settings: Settings) -> None:
    app = create_app(settings)
    async with app_client(app) as client:
        db = app.state.runtime.db
        a = await insert_task(db, NewTask("kie", "sora-2-characters", {}))
        b = await insert_task(db, NewTask("foxapi", "sora-2", {"prompt": "p"}))
        await record_completion(
            db, Outcome(b["id"], "failed", "poll", error={"code": "c", "message": "m"})
        )
        kie = (await client.get("/api/tasks", params={"provider": "kie"})).json()["items"]
        assert [t["id"] for t in kie] == [a["id"]]
        failed = (await client.get("/api/tasks", params={"status": "failed"})).json()["items"]
        assert [t["id"] for t in failed] == [b["id"]]
        detail = (await client.get(f"/api/tasks/{b['id']}")).json()
        assert detail["error"] == {"code": "c", "message": "m"} and detail["completed_at"]
        assert [h["kind"] for h in detail["history"]] == ["completion"]
        events = (await client.get("/api/events", params={"task_id": b["id"]})).json()["items"]
        assert len(events) == 1 and events[0]["type"] == "task.failed"
        one = await client.get(f"/api/events/{events[0]['id']}")
        assert one.json() == events[0]
        missing = await client.get("/api/tasks/tsk_nope")
        assert missing.status_code == 404 and "tsk_nope" in missing.json()["error"]["message"]
        nowhere = await client.get("/nowhere")
        assert nowhere.status_code == 404 and nowhere.json()["error"]["code"] == "not_found"
