"""`POST /api/tasks`: validate, store first, send once; idempotency; failures at submission."""

from __future__ import annotations

import asyncio

from dispatcher.providers.base import ProviderRejected, ProviderUnavailable
from receiver.callback_tokens import hash_token
from receiver.clock import now_ms
from receiver.db import Database, migrate, open_database
from receiver.db.migrate import packaged_migrations
from receiver.settings import Settings
from receiver.store.tasks import NewTask, insert_task
from tests.dispatcher.fake_adapter import FakeAdapter
from tests.dispatcher.harness import FAST, harness, video


async def test_submit_answers_202_with_the_task_sent_once(settings: Settings) -> None:
    async with harness(settings) as h:
        response = await h.submit(video())
        assert response.status_code == 202, response.text
        task = response.json()
        assert task["status"] == "submitted" and task["provider_task_id"] == "fake-1"
        assert task["mode"] == "poll" and task["input"] == {"prompt": "a fox"}
        assert len(h.adapter.submitted) == 1
        await h.tick()
        assert len(h.adapter.submitted) == 1  # the submitter does not send it again
        assert [e["kind"] for e in (await h.task(task["id"]))["history"]] == ["stored", "sent"]


async def test_invalid_input_is_422_naming_the_field_and_nothing_is_stored(
    settings: Settings,
) -> None:
    cases = [
        ({"provider": "fake", "model": "video", "input": {}}, "prompt"),
        ({"provider": "nope", "model": "video", "input": {}}, "provider"),
        ({"provider": "fake", "model": "sora-9", "input": {}}, "model"),
        ({"provider": "fake", "model": "video", "input": []}, "input"),
        ({"model": "video", "input": {}}, "provider"),
    ]
    async with harness(settings) as h:
        for body, field in cases:
            response = await h.submit(body)
            assert response.status_code == 422, body
            error = response.json()["error"]
            assert error["code"] == "invalid_input" and error["field"] == field, error
        assert (await h.client.get("/api/tasks")).json()["items"] == []
        assert h.adapter.submitted == []


async def test_malformed_json_is_400(settings: Settings) -> None:
    async with harness(settings) as h:
        response = await h.client.post("/api/tasks", content=b"{not json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_request"


async def test_submitting_needs_the_admin_token(settings: Settings) -> None:
    async with harness(settings) as h:
        response = await h.client.post("/api/tasks", json=video(), headers={"Authorization": ""})
        assert response.status_code == 401 and h.adapter.submitted == []


async def test_idempotency_key_returns_the_same_task_without_a_second_request(
    settings: Settings,
) -> None:
    async with harness(settings) as h:
        first = await h.submit(video(), **{"Idempotency-Key": "order-17"})
        again = await h.submit(video(), **{"Idempotency-Key": "order-17"})
        assert first.status_code == again.status_code == 202
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["idempotent-replayed"] == "true"
        assert len(h.adapter.submitted) == 1
        other = await h.submit(video("a cat"), **{"Idempotency-Key": "order-17"})
        assert other.status_code == 409
        assert "different body" in other.json()["error"]["message"]
        fresh = await h.submit(video("a cat"), **{"Idempotency-Key": "order-18"})
        assert fresh.json()["id"] != first.json()["id"] and len(h.adapter.submitted) == 2


async def test_concurrent_retries_with_one_key_make_one_task(settings: Settings) -> None:
    async with harness(settings) as h:
        answers = await asyncio.gather(
            *(h.submit(video(), **{"Idempotency-Key": "burst"}) for _ in range(5))
        )
        assert {a.status_code for a in answers} == {202}
        assert len({a.json()["id"] for a in answers}) == 1
        assert len(h.adapter.submitted) == 1


async def test_rejection_at_submission_fails_the_task_with_one_event(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.submit_errors.append(ProviderRejected("fake", "insufficient credits", code=402))
    async with harness(settings, adapter) as h:
        task = (await h.submit(video())).json()
        assert task["status"] == "failed"
        assert task["error"] == {"code": "provider_402", "message": "insufficient credits"}
        [event] = await h.events(task["id"])
        assert event["type"] == "task.failed" and event["data"]["source"] == "submit"
        await h.tick()
        assert adapter.submitted == []


async def test_unavailable_provider_is_retried_by_the_submitter(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.submit_errors.extend(
        [ProviderUnavailable("fake", "busy", http_status=429, retry_after_s=0.02)] * 2
    )
    async with harness(settings.replace(**FAST), adapter) as h:
        task = (await h.submit(video())).json()
        assert task["status"] == "submitted" and task["provider_task_id"] is None
        for _ in range(40):
            await h.tick()
            if adapter.submitted:
                break
            await asyncio.sleep(0.02)
        shown = await h.task(task["id"])
        assert shown["provider_task_id"] == "fake-1" and len(adapter.submitted) == 1
        kinds = [e["kind"] for e in shown["history"]]
        assert kinds.count("send_retry") == 2 and kinds[-1] == "sent"


async def test_a_stored_but_unsent_task_is_sent_after_a_restart(
    settings: Settings, db: Database
) -> None:
    # a crash right after storing: the row is there, nothing was sent
    row = await insert_task(db, NewTask("fake", "video", {"prompt": "late"}, send_next_at=None,
                                        deadline_at=now_ms() + 60_000))  # fmt: skip
    async with harness(settings, db=db) as h:
        assert await h.tick() == {"submitter": 1, "poller": 0}
        shown = await h.task(row["id"])
        assert shown["provider_task_id"] == "fake-1"
        assert h.adapter.submitted[0]["input"] == {"prompt": "late"}


async def test_send_retries_keep_their_own_schedule_apart_from_polls(
    settings: Settings, db: Database
) -> None:
    adapter = FakeAdapter()
    adapter.submit_errors.append(ProviderUnavailable("fake", "busy", retry_after_s=20))
    async with harness(settings, adapter, db=db) as h:
        task = (await h.submit(video())).json()
        row = await db.fetchone("SELECT * FROM tasks WHERE id = ?", task["id"])
        assert row is not None and row["send_attempts"] == 1 and row["send_lease_until"] is None
        assert 19 <= (row["send_next_at"] - now_ms()) / 1000 <= 21  # Retry-After honoured
        assert (row["next_poll_at"], row["poll_count"], row["poll_lease_until"]) == (None, 0, None)
        assert task["poll_count"] == 0  # the API's count is of polls, not of send attempts
        await db.execute("UPDATE tasks SET send_next_at = ? WHERE id = ?", now_ms(), task["id"])
        assert (await h.tick())["submitter"] == 1
        sent = await db.fetchone("SELECT * FROM tasks WHERE id = ?", task["id"])
        assert sent is not None and sent["provider_task_id"] == "fake-1"
        assert sent["send_next_at"] is None and sent["send_lease_until"] is None
        assert sent["next_poll_at"] is not None and sent["poll_count"] == 0


async def test_a_task_waiting_to_be_sent_before_the_upgrade_is_sent_after_it(
    settings: Settings, db_url: str
) -> None:
    # a database at schema 0008, where the submitter kept its schedule in the poll columns
    old = await open_database(db_url)
    try:
        await migrate(old, [m for m in packaged_migrations() if m.version <= 8])
        now = now_ms()
        await insert_unsent_0008(old, "tsk_due", now - 1000, now - 500)  # lease ran out
        await insert_unsent_0008(old, "tsk_later", now + 60_000, None)  # retry in a minute
    finally:
        await old.close()
    async with harness(settings) as h:  # opens and migrates the database, as `serve` does
        assert await h.tick() == {"submitter": 1, "poller": 0}
        assert (await h.task("tsk_due"))["provider_task_id"] == "fake-1"
        assert h.adapter.submitted[0]["input"] == {"prompt": "tsk_due"}
        later = await h.task("tsk_later")
        assert later["provider_task_id"] is None and later["poll_count"] == 0


async def insert_unsent_0008(db: Database, task_id: str, retry_at: int, lease: int | None) -> None:
    now = now_ms()
    await db.execute(
        "INSERT INTO tasks (id, provider, model, input, status, mode, next_poll_at, "
        "poll_count, poll_lease_until, deadline_at, created_at, updated_at) "
        "VALUES (?, 'fake', 'video', ?, 'submitted', 'poll', ?, 2, ?, ?, ?, ?)",
        task_id, f'{{"prompt": "{task_id}"}}', retry_at, lease, now + 600_000, now, now,
    )  # fmt: skip


async def test_callback_tasks_carry_a_per_task_token_stored_only_as_a_hash(
    settings: Settings, db: Database
) -> None:
    adapter = FakeAdapter(callback=True)
    with_url = settings.replace(public_url="https://hooks.example")
    async with harness(with_url, adapter, db=db) as h:
        task = (await h.submit(video())).json()
        url = adapter.submitted[0]["callback_url"]
        assert task["mode"] == "callback"
        assert url.startswith("https://hooks.example/callbacks/fake/")
        token = url.rsplit("/", 1)[1]
        row = await db.fetchone("SELECT callback_token_hash FROM tasks WHERE id = ?", task["id"])
        assert row is not None and row["callback_token_hash"] == hash_token(token) != token


async def test_without_a_public_url_everything_is_polled(settings: Settings) -> None:
    adapter = FakeAdapter(callback=True)
    async with harness(settings, adapter) as h:
        task = (await h.submit(video())).json()
        assert task["mode"] == "poll" and adapter.submitted[0]["callback_url"] is None


async def test_nan_and_infinity_are_not_json(settings: Settings) -> None:
    async with harness(settings) as h:
        body = b'{"provider": "fake", "model": "video", "input": {"prompt": "x", "n": Infinity}}'
        response = await h.client.post("/api/tasks", content=body)
        assert response.status_code == 400 and "Infinity" in response.json()["error"]["message"]
        assert h.adapter.submitted == []
