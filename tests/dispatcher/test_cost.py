"""Item 7: what providers report tasks cost, on the task, in the event, in /metrics; and
kie's remaining credits in `taskhook providers`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from receiver.providers import parse_foxapi_task, parse_kie_callback, parse_toapis_task
from receiver.providers.cost import keep_reported
from receiver.settings import Settings
from tests.dispatcher.emulated import emulator, events_of, finished, submit, taskhook
from tests.dispatcher.test_cli_submit import run_cli
from tests.dispatcher.test_emulator import emulator as emulator_client
from tests.receiver.test_metrics import parse
from tests.support import ADMIN_TOKEN

CLIP = "https://files.example/me.mp4"
FAST = {"poll_min_interval_s": 0.05, "poll_max_interval_s": 0.2}


def test_each_provider_cost_is_read_as_reported() -> None:
    fox = parse_foxapi_task({"id": "t", "status": "completed", "usage": {"credits": 2.5,
                                                                         "note": "x"}})  # fmt: skip
    assert fox.cost == {"units": {"credits": 2.5}, "duration_s": None}
    kie = parse_kie_callback({"code": 200, "data": {
        "taskId": "k", "state": "success", "costTime": 12, "consumeCredits": 20,
        "createTime": 1000, "completeTime": 9000}})  # fmt: skip
    assert kie.cost == {"units": {"consumeCredits": 20.0}, "duration_s": 12.0}
    toapis = parse_toapis_task({"id": "o", "status": "completed", "created_at": 100,
                                "completed_at": 145})  # fmt: skip
    assert toapis.cost == {"units": {}, "duration_s": 45.0}
    assert parse_foxapi_task({"id": "t", "status": "processing"}).cost is None


def test_a_confirmed_state_keeps_the_callbacks_cost_fields() -> None:
    reported = parse_kie_callback({"code": 200, "data": {
        "taskId": "k", "state": "success", "costTime": 12, "consumeCredits": 20}})  # fmt: skip
    confirmed = parse_kie_callback({"code": 200, "data": {
        "taskId": "k", "state": "success", "createTime": 1000, "completeTime": 4000}})  # fmt: skip
    merged = keep_reported(confirmed, reported)
    assert merged.cost == {"units": {"consumeCredits": 20.0}, "duration_s": 12.0}


async def test_cost_on_the_task_in_the_event_and_summed_in_metrics(settings: Settings) -> None:
    tuned = settings.replace(**FAST, poll_safety_interval_s=300.0)
    # long enough that kie's half-way progress report is handled before the task ends (a
    # re-read after the end would complete the task from the report, without its credits)
    async with emulator(delay_s=2.0) as emu, taskhook(tuned, emu, callbacks=True) as th:
        fox = [await submit(th, "foxapi", "sora-2", {"prompt": "waves"}) for _ in range(2)]
        kie = await submit(th, "kie", "sora-2-characters", {"character_file_url": [CLIP]})
        toapis = await submit(th, "toapis", "sora-2", {"prompt": "a cat"})
        done = [await finished(th, t["id"]) for t in [*fox, kie, toapis]]
        events = [(await events_of(th, t["id"]))[0] for t in done]
        samples = parse((await th.get("/metrics")).text)
    for task, event in zip(done, events, strict=True):
        assert task["status"] == "succeeded", task["error"]
        assert event["data"]["cost"] == task["cost"]
    assert [t["cost"]["units"] for t in done[:2]] == [{"credits": 1.0}] * 2  # foxapi usage
    assert done[2]["source"] == "callback"
    assert done[2]["cost"]["units"] == {"consumeCredits": 1.0}  # from the kie callback
    assert done[2]["cost"]["duration_s"] is not None
    assert done[3]["cost"]["duration_s"] is not None  # toapis completed_at - created_at
    cost = samples["taskhook_provider_cost_total"]
    assert cost[(("model", "sora-2"), ("provider", "foxapi"), ("unit", "credits"))] == 2.0
    assert cost[(("model", "sora-2-characters"), ("provider", "kie"),
                 ("unit", "consumeCredits"))] == 1.0  # fmt: skip
    seconds = samples["taskhook_provider_task_seconds_total"]
    assert (("model", "sora-2"), ("provider", "toapis")) in seconds


async def test_page_kie_common_api_reports_remaining_credits() -> None:
    """kie page: "Common API - Check credits and account usage"; its Get Remaining Credits
    answers `{"code": 200, "msg": "success", "data": 100}`."""
    async with emulator_client(delay_s=0, kie_credits=100) as client:
        before = (await client.get("/api/v1/chat/credit")).json()
        await client.post("/api/v1/jobs/createTask", json={
            "model": "sora-2-characters", "input": {"character_file_url": [CLIP]}})  # fmt: skip
        after = (await client.get("/api/v1/chat/credit")).json()
    assert before == {"code": 200, "msg": "success", "data": 100}
    assert after["data"] == 99


async def test_providers_command_lists_keys_and_kie_credits(tmp_path: Path) -> None:
    async with emulator(delay_s=0, kie_credits=250) as emu:
        env = {"TASKHOOK_ADMIN_TOKEN": ADMIN_TOKEN, "TASKHOOK_DB": str(tmp_path / "t.db"),
               "TASKHOOK_KIE_BASE_URL": f"{emu}/kie", "TASKHOOK_KIE_API_KEY": "k",
               "TASKHOOK_FOXAPI_BASE_URL": f"{emu}/foxapi"}  # fmt: skip
        code, out, err = await run_cli("providers", "--json", env=env)
        table_code, table, _ = await run_cli("providers", env=env)
    assert code == 0 and table_code == 0, err
    rows = {row["provider"]: row for row in json.loads(out)}
    assert rows["kie"] == {"provider": "kie", "base_url": f"{emu}/kie", "key_set": True,
                           "credits": 250, "credits_error": None}  # fmt: skip
    assert rows["foxapi"]["key_set"] is False and rows["foxapi"]["credits"] is None
    assert set(rows) == {"kie", "foxapi", "toapis"}
    assert "250" in table and f"{emu}/kie" in table


async def test_dashboard_shows_cost_pictures_and_kie_credits(settings: Settings) -> None:
    async with (
        emulator(delay_s=0.2, kie_credits=500) as emu,
        taskhook(settings.replace(**FAST), emu) as th,
    ):
        fox = await submit(th, "foxapi", "sora-2", {"prompt": "waves"})
        character = await submit(th, "toapis", "sora-2", {"url": CLIP, "timestamps": "1,3"})
        for task in (fox, character):
            await finished(th, task["id"])
        async with httpx.AsyncClient(base_url=str(th.base_url)) as browser:
            login = await browser.post("/ui/login", data={"token": ADMIN_TOKEN, "next": "/ui/"})
            assert login.status_code == 303
            overview = (await browser.get("/ui/")).text
            fox_page = (await browser.get(f"/ui/tasks/{fox['id']}")).text
            character_page = (await browser.get(f"/ui/tasks/{character['id']}")).text
    assert 'id="providers"' in overview and "500 credits" in overview
    assert "1 credits" in fox_page  # foxapi usage
    assert '<img src="https://cdn.emulator.example/toapis/' in character_page
    assert "<video" not in character_page
