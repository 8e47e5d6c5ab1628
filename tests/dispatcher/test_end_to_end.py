"""Submit -> completion against the provider emulator over real loopback HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from receiver.settings import Settings
from tests.dispatcher.emulated import (
    CHARACTER_MODELS,
    EVERY_MODEL,
    emulator,
    emulator_stats,
    events_of,
    finished,
    submit,
    taskhook,
)
from tests.support import wait_for

CLIP = "https://files.example/me.mp4"
FAST = {"poll_min_interval_s": 0.05, "poll_max_interval_s": 0.2}


async def test_every_model_of_every_provider_completes_by_polling(settings: Settings) -> None:
    async with emulator(delay_s=0.3) as emu, taskhook(settings.replace(**FAST), emu) as th:
        tasks = [await submit(th, p, m, i) for p, m, i in EVERY_MODEL]
        assert all(t["mode"] == "poll" and t["provider_task_id"] for t in tasks)
        done = await asyncio.gather(*(finished(th, t["id"]) for t in tasks))
        for (provider, model, _), task in zip(EVERY_MODEL, done, strict=True):
            assert task["status"] == "succeeded", (provider, model, task["error"])
            assert task["source"] == "poll"
            if (provider, model) in CHARACTER_MODELS:
                assert task["result"]["character_id"], (provider, model, task["result"])
            else:
                assert task["result"]["video_urls"], (provider, model, task["result"])
            [event] = await events_of(th, task["id"])
            assert event["type"] == "task.succeeded" and event["data"]["source"] == "poll"


async def test_kie_completes_by_callback(settings: Settings) -> None:
    tuned = settings.replace(**FAST, poll_safety_interval_s=300.0)
    async with emulator(delay_s=0.2) as emu, taskhook(tuned, emu, callbacks=True) as th:
        task = await submit(th, "kie", "sora-2-characters", {"character_file_url": [CLIP]})
        assert task["mode"] == "callback"
        done = await finished(th, task["id"])
        assert done["status"] == "succeeded" and done["source"] == "callback"
        assert done["result"]["character_id"]
        stats = await emulator_stats(emu)
        assert stats["callbacks"]["sent"] == 1
        # the confirm (and the progress report's, when one was sent)
        confirms = 1 + stats["callbacks"]["progress"]
        assert stats["tasks"][task["provider_task_id"]].get("query", 0) <= confirms


async def test_foxapi_uses_callbacks_only_for_the_models_switched_on(settings: Settings) -> None:
    tuned = settings.replace(**FAST, poll_safety_interval_s=300.0)
    on = frozenset({"sora-2"})
    async with (
        emulator(delay_s=0.2) as emu,
        taskhook(tuned, emu, callbacks=True, foxapi_callback_models=on) as th,
    ):
        called = await submit(th, "foxapi", "sora-2", {"prompt": "waves"})
        polled = await submit(th, "foxapi", "sora-2-pro", {"prompt": "waves"})
        assert (called["mode"], polled["mode"]) == ("callback", "poll")
        assert (await finished(th, called["id"]))["source"] == "callback"
        assert (await finished(th, polled["id"]))["source"] == "poll"


async def test_a_lost_callback_is_caught_by_the_safety_net_poll(settings: Settings) -> None:
    tuned = settings.replace(**FAST, poll_safety_interval_s=0.5)
    async with emulator(delay_s=0.1) as emu, taskhook(tuned, emu, callbacks=True) as th:
        async with httpx.AsyncClient() as client:
            await client.post(f"{emu}/_emulator/callbacks/pause")
        task = await submit(th, "kie", "sora-2-characters", {"character_file_url": [CLIP]})
        done = await finished(th, task["id"])
        assert done["status"] == "succeeded" and done["source"] == "poll"
        assert (await emulator_stats(emu))["callbacks"]["dropped"] == 1


async def test_a_callback_poll_race_yields_one_event_per_task(settings: Settings) -> None:
    # callbacks arrive while the safety-net poll asks constantly: both find every completion
    tuned = settings.replace(**FAST, poll_safety_interval_s=0.02)
    async with emulator(delay_s=0.3) as emu, taskhook(tuned, emu, callbacks=True) as th:
        tasks = [await submit(th, "kie", "sora-2-characters", {"character_file_url": [CLIP]})
                 for _ in range(6)]  # fmt: skip
        await asyncio.gather(*(finished(th, t["id"]) for t in tasks))
        await asyncio.sleep(0.5)  # let late callbacks land
        for task in tasks:
            events = await events_of(th, task["id"])
            assert len(events) == 1, events
        assert (await emulator_stats(emu))["callbacks"]["sent"] == 6


async def test_a_restart_mid_poll_resumes_and_finishes(settings: Settings) -> None:
    async with emulator(delay_s=1.5, estimated_time_s=0.0) as emu:
        async with taskhook(settings.replace(**FAST), emu) as th:
            task = await submit(th, "foxapi", "sora-2", {"prompt": "waves"})

            async def polled() -> bool:
                detail = (await th.get(f"/api/tasks/{task['id']}")).json()
                return any(h["kind"] == "poll" for h in detail["history"])

            await wait_for(polled)
        # the first process is gone; a new one on the same store picks the schedule up
        async with taskhook(settings.replace(**FAST), emu) as th:
            done = await finished(th, task["id"])
            assert (
                done["status"] == "succeeded"
                and done["provider_task_id"] == task["provider_task_id"]
            )
            assert len(await events_of(th, task["id"])) == 1
        stats = await emulator_stats(emu)
        assert stats["requests"]["foxapi"]["create"] == 1  # never sent twice


@pytest.mark.parametrize(
    ("parent", "child"),
    [
        (("foxapi", "sora-2-character", {"video_url": "https://f/me.mp4", "name": "Me"}),
         ("foxapi", "sora-2", {"prompt": "@Me waves", "character_ids": ["{{character_id}}"]})),
        (("toapis", "sora-2", {"url": "https://f/me.mp4", "timestamps": "1,3"}),
         ("toapis", "sora-2", {"prompt": "@me surfs", "character_url": "{{provider_task_id}}"})),
        (("kie", "sora-2-characters", {"character_file_url": ["https://f/me.mp4"]}),
         ("foxapi", "sora-2-pro", {"prompt": "me dancing", "character_ids": ["{{character_id}}"]})),
        # kie's page: character_id "can be used ... in subsequent operations"
        (("kie", "sora-2-characters", {"character_file_url": ["https://f/me.mp4"]}),
         ("kie", "sora-2-text-to-video",
          {"prompt": "me surfing", "character_id_list": ["{{character_id}}"]})),
    ],
)  # fmt: skip
async def test_a_character_then_a_video_with_it_runs_the_child_once(
    settings: Settings, parent: tuple[str, str, Any], child: tuple[str, str, Any]
) -> None:
    then = {"provider": child[0], "model": child[1], "input": child[2]}
    async with emulator(delay_s=0.2) as emu, taskhook(settings.replace(**FAST), emu) as th:
        first = await submit(th, *parent, then=then)
        parent_done = await finished(th, first["id"])
        assert parent_done["status"] == "succeeded"

        async def the_child() -> Any:
            found = (await th.get("/api/tasks", params={"parent_id": first["id"]})).json()
            return found["items"][0] if found["items"] else None

        second = await wait_for(the_child)
        done = await finished(th, second["id"])
        assert done["status"] == "succeeded", done["error"]
        used = parent_done["result"]["character_id"]
        if child[0] == "toapis":
            assert done["input"]["character_url"] == parent_done["provider_task_id"]
        elif child[0] == "kie":
            assert done["input"]["character_id_list"] == [used]
            assert done["result"]["video_urls"] and not done["result"]["character_id"]
        else:
            assert done["input"]["character_ids"] == [used]
        await asyncio.sleep(0.3)
        assert len((await th.get("/api/tasks")).json()["items"]) == 2
        creates = (await emulator_stats(emu))["requests"][child[0]]["create"]
        assert creates == (2 if parent[0] == child[0] else 1)


async def test_a_task_past_its_deadline_expires(settings: Settings) -> None:
    tuned = settings.replace(**FAST, task_deadline_s=0.5)
    async with emulator(delay_s=30) as emu, taskhook(tuned, emu) as th:
        task = await submit(th, "toapis", "sora-2-pro", {"prompt": "slow"})
        done = await finished(th, task["id"])
        assert done["status"] == "expired" and done["error"]["code"] == "deadline_exceeded"
        [event] = await events_of(th, task["id"])
        assert event["type"] == "task.expired"
