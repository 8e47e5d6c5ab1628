"""Callback routes end to end: verify, store durably, process once, refuse bad input."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest

from receiver.provider_state import ProviderState
from receiver.retry import GiveUp
from receiver.settings import Settings
from receiver.store.tasks import find_by_provider_id, get_task
from tests.receiver.callback_helpers import (
    KIE_KEY,
    FakeConfirmer,
    add_task,
    count,
    events,
    kie_body,
    post_kie,
    running,
)
from tests.support import tick_until


@pytest.fixture
def cb_settings(settings: Settings) -> Settings:
    """Serverless mode: each accepted callback is processed right after its response."""
    return settings.replace(kie_webhook_key=KIE_KEY, workers=False)


async def test_signed_kie_callback_completes_the_task_once(cb_settings: Settings) -> None:
    async with running(cb_settings) as (client, rt):
        task, _ = await add_task(rt.db)
        resp = await post_kie(client, kie_body("task_abc"))
        assert resp.status_code == 200 and resp.json() == {"status": "accepted"}
        found = await events(rt.db)
        assert [e["type"] for e in found] == ["task.succeeded"]
        assert found[0]["data"]["task_id"] == task["id"]
        assert found[0]["data"]["source"] == "callback"
        assert found[0]["data"]["result"]["character_id"] == "char_body"
        row = await get_task(rt.db, task["id"])
        assert row is not None and row["status"] == "succeeded"


async def test_replayed_callback_is_acknowledged_and_records_nothing(cb_settings: Settings) -> None:
    async with running(cb_settings) as (client, rt):
        await add_task(rt.db)
        body = kie_body("task_abc")
        first = await post_kie(client, body)
        again = await post_kie(client, body)
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.json() == {"status": "duplicate"}
        assert await count(rt.db, "inbox") == 1
        assert len(await events(rt.db)) == 1
        verdicts = {r["verdict"] for r in await rt.db.fetchall("SELECT verdict FROM callbacks")}
        assert verdicts == {"accepted", "duplicate"}


async def test_failed_callback_records_the_error(cb_settings: Settings) -> None:
    async with running(cb_settings) as (client, rt):
        await add_task(rt.db)
        assert (await post_kie(client, kie_body("task_abc", state="fail"))).status_code == 200
        (event,) = await events(rt.db)
        assert event["type"] == "task.failed"
        assert event["data"]["error"]["message"] == "generation failed"


async def assert_nothing_stored(rt_db: object, *, audit_verdict: str) -> None:
    db = rt_db
    assert await count(db, "inbox") == 0  # type: ignore[arg-type]
    assert await count(db, "events") == 0  # type: ignore[arg-type]
    rows = await db.fetchall("SELECT verdict FROM callbacks")  # type: ignore[attr-defined]
    assert [r["verdict"] for r in rows] == [audit_verdict]


@pytest.mark.parametrize(
    "case", ["wrong-key", "missing-headers", "stale", "future", "signed-for-another-task"]
)
async def test_authentication_failures_are_generic_401(cb_settings: Settings, case: str) -> None:
    now = int(time.time())
    kwargs: dict[str, object] = {
        "wrong-key": {"key": "not-the-key"},
        "missing-headers": {"key": None},
        "stale": {"ts": now - 600},
        "future": {"ts": now + 600},
        "signed-for-another-task": {"sign_for": "task_other"},
    }[case]
    async with running(cb_settings) as (client, rt):
        await add_task(rt.db)
        resp = await post_kie(client, kie_body("task_abc"), **kwargs)  # type: ignore[arg-type]
        assert resp.status_code == 401
        assert resp.json() == {
            "error": {"code": "unauthorized", "message": "callback authentication failed"}
        }
        await assert_nothing_stored(rt.db, audit_verdict="unauthorized")
        reason = (await rt.db.fetchone("SELECT reason FROM callbacks"))["reason"]
        assert reason  # the audit row (and the log) say which check failed


async def test_untokened_kie_without_a_configured_key_is_401(settings: Settings) -> None:
    async with running(settings.replace(workers=False)) as (client, rt):
        await add_task(rt.db)
        resp = await post_kie(client, kie_body("task_abc"))
        assert resp.status_code == 401
        await assert_nothing_stored(rt.db, audit_verdict="unauthorized")


@pytest.mark.parametrize(
    ("content", "status", "words"),
    [
        (b"not json at all", 400, "not valid JSON"),
        (b"", 400, "empty"),
        (b"\xff\xfe{}", 400, "UTF-8"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"code": 200, "data": {"state": "success"}}', 400, "data.taskId"),
        (b'{"data": {"taskId": "task one"}}', 400, "data.taskId"),
        (b'{"data": {"taskId": "t1", "x": "\\udc00"}}', 400, "surrogate"),
        (b"[" * 100_000, 400, "not valid JSON"),
    ],
    ids=["text", "empty", "binary", "array", "no-task-id", "bad-task-id", "surrogate", "deep"],
)
async def test_malformed_bodies_are_400_naming_the_problem(
    cb_settings: Settings, content: bytes, status: int, words: str
) -> None:
    async with running(cb_settings) as (client, rt):
        resp = await client.post("/callbacks/kie", content=content)
        assert resp.status_code == status
        assert words in resp.json()["error"]["message"]
        await assert_nothing_stored(rt.db, audit_verdict="malformed")


async def test_oversized_body_is_413_from_content_length(cb_settings: Settings) -> None:
    async with running(cb_settings) as (client, rt):
        resp = await client.post("/callbacks/kie", content=b"x" * (1024 * 1024 + 1))
        assert resp.status_code == 413
        await assert_nothing_stored(rt.db, audit_verdict="too_large")
        row = await rt.db.fetchone("SELECT body FROM callbacks")
        assert row is not None and row["body"] is None  # not even read


async def test_streamed_oversized_body_is_cut_off_without_reading_the_rest(
    cb_settings: Settings,
) -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"x" * 65536

    async with running(cb_settings) as (client, rt):
        resp = await client.post("/callbacks/kie", content=endless())
        assert resp.status_code == 413
        assert pulled <= 1024 * 1024 // 65536 + 2
        await assert_nothing_stored(rt.db, audit_verdict="too_large")


async def test_body_at_the_limit_is_read(cb_settings: Settings) -> None:
    body = kie_body("task_abc")
    body["pad"] = "x" * (1024 * 1024 - len(json.dumps(body)) - 20)
    async with running(cb_settings) as (client, rt):
        await add_task(rt.db)
        assert (await post_kie(client, body)).status_code == 200


@pytest.mark.parametrize("name", ["nosuch", "toapis", "KIE"])
async def test_unknown_provider_is_404(cb_settings: Settings, name: str) -> None:
    async with running(cb_settings) as (client, rt):
        resp = await client.post(f"/callbacks/{name}", json=kie_body("task_abc"))
        assert resp.status_code == 404
        assert resp.json()["error"]["code"] == "not_found"
        await assert_nothing_stored(rt.db, audit_verdict="not_found")


async def test_unknown_task_with_valid_signature_becomes_an_external_task(
    cb_settings: Settings,
) -> None:
    async with running(cb_settings) as (client, rt):
        assert (await post_kie(client, kie_body("task_elsewhere"))).status_code == 200
        task = await find_by_provider_id(rt.db, "kie", "task_elsewhere")
        assert task is not None
        assert (task["external"], task["mode"], task["status"]) == (1, "callback", "succeeded")
        assert task["model"] == "sora-2-characters"
        (event,) = await events(rt.db)
        assert event["data"]["task_id"] == task["id"]


async def test_unknown_task_without_signature_stores_nothing(cb_settings: Settings) -> None:
    async with running(cb_settings) as (client, rt):
        resp = await post_kie(client, kie_body("task_elsewhere"), key=None)
        assert resp.status_code == 401
        assert await count(rt.db, "tasks") == 0
        await assert_nothing_stored(rt.db, audit_verdict="unauthorized")


# --- the per-task token route -------------------------------------------------------------


async def test_token_route_accepts_its_own_task(settings: Settings) -> None:
    async with running(settings.replace(workers=False)) as (client, rt):
        task, token = await add_task(rt.db)
        resp = await post_kie(client, kie_body("task_abc"), key=None, token=token)
        assert resp.status_code == 200
        assert [e["data"]["task_id"] for e in await events(rt.db)] == [task["id"]]


async def test_token_route_with_a_wrong_token_is_404_revealing_nothing(
    settings: Settings,
) -> None:
    async with running(settings.replace(workers=False)) as (client, rt):
        _, token = await add_task(rt.db)
        wrong = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
        for bad in (wrong, "short", "x" * 300, "%00" + token):
            resp = await post_kie(client, kie_body("task_abc"), key=None, token=bad)
            assert resp.status_code == 404, bad
            assert resp.json()["error"]["message"] == "no callback endpoint at this URL"
        # a foxapi token does not open kie's route
        _, fox_token = await add_task(rt.db, provider="foxapi", provider_task_id="fx_1")
        resp = await post_kie(client, kie_body("fx_1"), key=None, token=fox_token)
        assert resp.status_code == 404
        assert await count(rt.db, "inbox") == 0 and await count(rt.db, "events") == 0


async def test_token_of_another_task_is_400(settings: Settings) -> None:
    async with running(settings.replace(workers=False)) as (client, rt):
        await add_task(rt.db, provider_task_id="task_a")
        _, token_b = await add_task(rt.db, provider_task_id="task_b")
        resp = await post_kie(client, kie_body("task_a"), key=None, token=token_b)
        assert resp.status_code == 400
        assert "data.taskId" in resp.json()["error"]["message"]
        assert await count(rt.db, "inbox") == 0 and await count(rt.db, "events") == 0


async def test_token_route_also_needs_the_signature_when_a_key_is_set(
    cb_settings: Settings,
) -> None:
    async with running(cb_settings) as (client, rt):
        _, token = await add_task(rt.db)
        unsigned = await post_kie(client, kie_body("task_abc"), key=None, token=token)
        assert unsigned.status_code == 401
        signed = await post_kie(client, kie_body("task_abc"), token=token)
        assert signed.status_code == 200
        assert len(await events(rt.db)) == 1


async def test_foxapi_callbacks_only_on_the_token_route(settings: Settings) -> None:
    body = {"id": "fx_1", "status": "completed", "results": [{"url": "https://cdn.example/v.mp4"}]}
    async with running(settings.replace(workers=False)) as (client, rt):
        _, token = await add_task(rt.db, provider="foxapi", provider_task_id="fx_1")
        assert (await client.post("/callbacks/foxapi", json=body)).status_code == 401
        assert (await client.post(f"/callbacks/foxapi/{token}", json=body)).status_code == 200
        (event,) = await events(rt.db)
        assert event["data"]["result"]["video_urls"] == ["https://cdn.example/v.mp4"]


async def test_progress_callback_updates_the_task_without_an_event(settings: Settings) -> None:
    body = {"id": "fx_1", "status": "processing", "progress": 40}
    async with running(settings.replace(workers=False)) as (client, rt):
        task, token = await add_task(rt.db, provider="foxapi", provider_task_id="fx_1")
        await rt.db.execute("UPDATE tasks SET status = 'submitted' WHERE id = ?", task["id"])
        assert (await client.post(f"/callbacks/foxapi/{token}", json=body)).status_code == 200
        row = await get_task(rt.db, task["id"])
        assert row is not None and (row["status"], row["progress"]) == ("running", 40)
        assert await count(rt.db, "events") == 0
        kinds = await rt.db.fetchall("SELECT kind FROM task_history WHERE task_id = ?", task["id"])
        assert "callback" in [k["kind"] for k in kinds]


# --- confirmation by re-reading the task at the provider -----------------------------------


def confirmed_success(provider_task_id: str) -> ProviderState:
    result = {"video_urls": [], "character_id": "char_confirmed", "character_name": None}
    return ProviderState(provider_task_id, "succeeded", 100, result)


async def test_the_confirming_reread_wins_over_the_body(cb_settings: Settings) -> None:
    confirmer = FakeConfirmer(confirmed_success)
    async with running(cb_settings, confirmer=confirmer) as (client, rt):
        await add_task(rt.db)
        body = kie_body("task_abc", character="char_FORGED")
        assert (await post_kie(client, body)).status_code == 200
        (event,) = await events(rt.db)
        assert event["data"]["result"]["character_id"] == "char_confirmed"
        assert confirmer.calls == ["task_abc"]


async def test_provider_saying_still_running_means_no_event(cb_settings: Settings) -> None:
    confirmer = FakeConfirmer(lambda ptid: ProviderState(ptid, "running", 50))
    async with running(cb_settings, confirmer=confirmer) as (client, rt):
        task, _ = await add_task(rt.db)
        assert (await post_kie(client, kie_body("task_abc"))).status_code == 200
        assert await count(rt.db, "events") == 0
        row = await get_task(rt.db, task["id"])
        assert row is not None and (row["status"], row["progress"]) == ("running", 50)


async def test_confirmation_can_be_switched_off_per_provider(cb_settings: Settings) -> None:
    from receiver.settings import ProviderSettings

    kie = ProviderSettings(name="kie", base_url="http://127.0.0.1:9", confirm_callbacks=False)
    confirmer = FakeConfirmer(confirmed_success)
    cfg = cb_settings.replace(providers={"kie": kie})
    async with running(cfg, confirmer=confirmer) as (client, rt):
        await add_task(rt.db)
        assert (await post_kie(client, kie_body("task_abc", character="c_body"))).status_code == 200
        (event,) = await events(rt.db)
        assert event["data"]["result"]["character_id"] == "c_body"
        assert confirmer.calls == []


async def test_confirmer_failure_is_retried_later(cb_settings: Settings) -> None:
    failures = [RuntimeError("kie is down")]

    def flaky(ptid: str) -> ProviderState:
        if failures:
            raise failures.pop()
        return confirmed_success(ptid)

    async with running(cb_settings, confirmer=FakeConfirmer(flaky)) as (client, rt):
        await add_task(rt.db)
        assert (await post_kie(client, kie_body("task_abc"))).status_code == 200
        assert await count(rt.db, "events") == 0
        row = await rt.db.fetchone("SELECT attempts, last_error, processed_at FROM inbox")
        assert row is not None and row["attempts"] == 1 and "kie is down" in row["last_error"]
        assert row["processed_at"] is None

        async def recorded() -> bool:
            return await count(rt.db, "events") > 0

        await tick_until(rt.runner, recorded, timeout_s=5)
        assert len(await events(rt.db)) == 1
        await rt.runner.tick()
        assert len(await events(rt.db)) == 1


async def test_permanent_confirmer_refusal_gives_up(cb_settings: Settings) -> None:
    class Rejected(GiveUp):
        """A permanent refusal, as a confirmer reports one (the dispatcher's ProviderRejected)."""

    def refuse(ptid: str) -> ProviderState:
        raise Rejected("recordInfo is null")

    async with running(cb_settings, confirmer=FakeConfirmer(refuse)) as (client, rt):
        assert (await post_kie(client, kie_body("task_ghost"))).status_code == 200
        row = await rt.db.fetchone("SELECT processed_at, last_error FROM inbox")
        assert row is not None and row["processed_at"] is not None
        assert "recordInfo is null" in row["last_error"]
        assert await count(rt.db, "events") == 0 and await count(rt.db, "tasks") == 0


async def test_callback_racing_a_poll_makes_one_event(cb_settings: Settings) -> None:
    from receiver.store.completion import Outcome, record_completion

    async with running(cb_settings) as (client, rt):
        task, _ = await add_task(rt.db)
        await record_completion(rt.db, Outcome(task["id"], "succeeded", "poll"))
        assert (await post_kie(client, kie_body("task_abc"))).status_code == 200
        (event,) = await events(rt.db)
        assert event["data"]["source"] == "poll"


# --- background workers ------------------------------------------------------------------------


async def test_with_workers_on_the_callback_is_processed_off_the_request(
    settings: Settings,
) -> None:
    from tests.support import wait_for

    async with running(settings.replace(kie_webhook_key=KIE_KEY)) as (client, rt):
        await add_task(rt.db)
        assert (await post_kie(client, kie_body("task_abc"))).status_code == 200

        async def one_event() -> bool:
            return await count(rt.db, "events") == 1

        await wait_for(one_event, timeout_s=5)
