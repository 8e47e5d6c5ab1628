"""A callback's body is parsed once, on receipt: the reported state travels with its inbox row."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from receiver.db import Row
from receiver.provider_state import ProviderState
from receiver.runtime import Runtime
from receiver.settings import Settings
from tests.receiver.callback_helpers import KIE_KEY, add_task, kie_body, post_kie, running


@asynccontextmanager
async def held(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime, Row, str]]:
    """The app with one kie task waiting (task row, callback token); a callback it accepts
    stays in the inbox, untouched, until the test's own `tick()`.

    The app starts with workers off, then is told they are on: the runner was never
    started, so the route only wakes it instead of processing after its answer.
    """
    cfg = settings.replace(kie_webhook_key=KIE_KEY, workers=False)
    async with running(cfg) as (client, rt):
        task, token = await add_task(rt.db)
        rt.settings = rt.settings.replace(workers=True)
        yield client, rt, task, token


async def test_the_inbox_row_carries_the_parsed_state(settings: Settings) -> None:
    async with held(settings) as (client, rt, _task, _token):
        assert (await post_kie(client, kie_body("task_abc"))).status_code == 200
        row = await rt.db.fetchone("SELECT state, body FROM inbox")
        assert row is not None
        state = ProviderState.from_json(row["state"])
        assert state.status == "succeeded" and state.provider_task_id == "task_abc"
        assert state.result is not None and state.result["character_id"] == "char_body"
        assert state.raw == {"model": "sora-2-characters"}  # the rest of the record: in body
        assert json.loads(row["body"])["data"]["taskId"] == "task_abc"


async def test_the_worker_records_the_stored_state_without_parsing_the_body_again(
    settings: Settings,
) -> None:
    async with held(settings) as (client, rt, task, _token):
        assert (await post_kie(client, kie_body("task_abc"))).status_code == 200
        # spoil the stored body: only the parsed state may be used from here on
        await rt.db.execute("UPDATE inbox SET body = ?", '{"garbage": true}')
        await rt.runner.tick()
        done = await rt.db.fetchone("SELECT status, result FROM tasks WHERE id = ?", task["id"])
        assert done is not None and done["status"] == "succeeded"
        assert json.loads(done["result"])["character_id"] == "char_body"


async def test_a_row_stored_before_the_state_column_is_parsed_from_its_body(
    settings: Settings,
) -> None:
    async with held(settings) as (client, rt, task, _token):
        assert (await post_kie(client, kie_body("task_abc"))).status_code == 200
        await rt.db.execute("UPDATE inbox SET state = NULL")  # as migration 0010 leaves old rows
        await rt.runner.tick()
        done = await rt.db.fetchone("SELECT status FROM tasks WHERE id = ?", task["id"])
        assert done is not None and done["status"] == "succeeded"


async def test_a_callback_token_in_the_body_is_redacted_from_the_stored_state(
    settings: Settings,
) -> None:
    async with held(settings) as (client, rt, _task, token):
        body = kie_body("task_abc")
        body["data"]["resultJson"] = json.dumps(
            {"character_id": "c1", "echo": f"https://me.example/callbacks/kie/{token}"}
        )
        assert (await post_kie(client, body, token=token)).status_code == 200
        row = await rt.db.fetchone("SELECT state, body FROM inbox")
        assert row is not None and token not in row["state"] and token not in row["body"]


def test_state_round_trips_through_json() -> None:
    state = ProviderState("t1", "failed", 10, None, {"code": "x", "message": "y"},
                          raw={"model": "m", "other": 1}, cost={"credits": 2.5},
                          expires_at_ms=123)  # fmt: skip
    back = ProviderState.from_json(state.to_json())
    assert back == ProviderState("t1", "failed", 10, None, {"code": "x", "message": "y"},
                                 raw={"model": "m"}, cost={"credits": 2.5},
                                 expires_at_ms=123)  # fmt: skip
