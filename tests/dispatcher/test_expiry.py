"""Item 8: `expires_at` from the provider, or its documented lifetime, on task and event."""

from __future__ import annotations

from datetime import datetime, timedelta

from receiver.providers import parse_foxapi_task, parse_kie_record, parse_toapis_task
from receiver.settings import Settings
from tests.dispatcher.emulated import emulator, events_of, finished, submit, taskhook
from tests.dispatcher.test_emulator import emulator as emulator_client

CLIP = "https://files.example/me.mp4"
FAST = {"poll_min_interval_s": 0.05, "poll_max_interval_s": 0.2}
DAY_MS = 24 * 3600 * 1000


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_expiry_from_the_provider_or_its_documented_lifetime() -> None:
    done = {"id": "o", "status": "completed", "completed_at": 100, "expires_at": 5000,
            "result": {"url": "https://v/1.mp4"}}  # fmt: skip
    assert parse_toapis_task(done).expires_at_ms == 5_000_000
    kie = {"taskId": "k", "state": "success", "completeTime": 1_000,
           "resultJson": '{"resultUrls": ["https://r/v.mp4"]}'}  # fmt: skip
    assert parse_kie_record(kie).expires_at_ms == 1_000 + DAY_MS
    character = {"taskId": "k", "state": "success", "resultJson": '{"character_id": "c"}'}
    assert parse_kie_record(character).expires_at_ms is None  # no URL, nothing expires
    fox = parse_foxapi_task({"id": "f", "status": "completed", "results": [{"url": "https://x"}]})
    assert fox.expires_at_ms is not None


async def test_page_toapis_answers_expires_at_with_a_completed_task() -> None:
    """NOTES.md (toapis): "plus `completed_at`, `expires_at` when done"."""
    async with emulator_client(delay_s=0) as client:
        made = (await client.post("/toapis/v1/videos/generations",
                                  json={"model": "sora-2", "prompt": "p"})).json()  # fmt: skip
        done = (await client.get(f"/toapis/v1/videos/generations/{made['id']}")).json()
    assert done["expires_at"] > done["completed_at"]


async def test_expires_at_on_the_task_and_in_the_event(settings: Settings) -> None:
    async with emulator(delay_s=0.2) as emu, taskhook(settings.replace(**FAST), emu) as th:
        toapis = await submit(th, "toapis", "sora-2", {"prompt": "a cat"})
        kie = await submit(th, "kie", "sora-2-text-to-video", {"prompt": "waves"})
        character = await submit(th, "kie", "sora-2-characters", {"character_file_url": [CLIP]})
        done = [await finished(th, t["id"]) for t in (toapis, kie, character)]
        events = [(await events_of(th, t["id"]))[0] for t in done]
    for task, event in zip(done, events, strict=True):
        assert task["status"] == "succeeded", task["error"]
        assert event["data"]["expires_at"] == task["expires_at"]
    # toapis: its own expires_at (the emulator: completed_at + 24 h, whole seconds)
    lifetime = when(done[0]["expires_at"]) - when(done[0]["completed_at"])
    assert timedelta(hours=23, minutes=59) < lifetime < timedelta(hours=24, seconds=2)
    # kie: completeTime + the documented 24 h
    lifetime = when(done[1]["expires_at"]) - when(done[1]["completed_at"])
    assert timedelta(hours=23, minutes=59) < lifetime < timedelta(hours=24, seconds=2)
    assert done[2]["expires_at"] is None  # a character id has no URL to expire
