"""The emulator and the adapters against the provider pages (issue 13, items 1-6).

Each `test_page_*` checks the emulator's behaviour against a phrase of a provider page in
shared/providers/ (quoted in its docstring); the `test_taskhook_*` tests run taskhook
against the emulator for the same rule.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from receiver.settings import Settings
from tests.dispatcher.emulated import emulator as live_emulator
from tests.dispatcher.emulated import finished, submit, taskhook
from tests.dispatcher.test_emulator import KIE_CREATE, KIE_QUERY, Inbox, emulator, kie_body, poll
from tests.support import live_server, wait_for

CLIP = "https://files.example/me.mp4"
IMG = "https://files.example/frame.png"
WAV = "https://files.example/speech.wav"
FAST = {"poll_min_interval_s": 0.05, "poll_max_interval_s": 0.2}
TOAPIS = "/toapis/v1/videos/generations"
FOXAPI = "/foxapi/v1/videos/generations"


# --- 1. toapis character result: pictures are not videos -----------------------------------


async def test_page_toapis_character_result_has_profile_picture_and_own_id() -> None:
    """toapis page: result "Contains created character information such as character ID,
    name, profile picture, etc." and "this character task ID can be used in video
    generation via the character_url parameter"."""
    async with emulator(delay_s=0) as client:
        task_id = (await client.post(TOAPIS, json={"model": "sora-2", "url": CLIP,
                                                   "timestamps": "1,3"})).json()["id"]  # fmt: skip
        result = (await client.get(f"{TOAPIS}/{task_id}")).json()["result"]
    assert result["character_id"] and result["character_id"] != task_id
    assert result["name"] and result["profile_picture_url"].startswith("https://")


async def test_taskhook_toapis_character_picture_goes_to_image_urls(settings: Settings) -> None:
    async with live_emulator(delay_s=0.2) as emu, taskhook(settings.replace(**FAST), emu) as th:
        made = await submit(th, "toapis", "sora-2", {"url": CLIP, "timestamps": "1,3"})
        clip = await submit(th, "toapis", "sora-2-pro", {"prompt": "a cat surfs"})
        character, video = await finished(th, made["id"]), await finished(th, clip["id"])
    assert character["result"]["video_urls"] == []
    assert [u.rsplit("/", 1)[1] for u in character["result"]["image_urls"]] == ["profile.webp"]
    # the task id (what character_url takes), not the provider's inner character id
    assert character["result"]["character_id"] == character["provider_task_id"]
    assert [u.rsplit("/", 1)[1] for u in video["result"]["video_urls"]] == ["video.mp4"]
    assert [u.rsplit("/", 1)[1] for u in video["result"]["image_urls"]] == ["thumbnail.jpg"]
    assert video["result"]["character_id"] is None


# --- 2. foxapi durations --------------------------------------------------------------------


@pytest.mark.parametrize("duration", [16, 20])
async def test_page_foxapi_duration_is_4_8_or_12(duration: int) -> None:
    """foxapi sora-2 page: duration "可选值: 4 8 12" (allowed values: 4, 8, 12)."""
    async with emulator() as client:
        answer = await client.post(FOXAPI, json={"model": "sora-2", "prompt": "p",
                                                 "duration": duration})  # fmt: skip
    assert answer.status_code == 422
    assert "4, 8, 12" in answer.json()["error"]["message"]


async def test_taskhook_foxapi_duration_16_is_refused_before_sending(settings: Settings) -> None:
    async with live_emulator() as emu, taskhook(settings, emu) as th:
        body = {"provider": "foxapi", "model": "sora-2", "input": {"prompt": "p", "duration": 16}}
        answer = await th.post("/api/tasks", json=body)
        creates = (await th.get("/api/tasks")).json()["items"]
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert (error["field"], error["code"]) == ("duration", "invalid_input")
    assert "4, 8, 12" in error["message"] and "16, 20" not in error["message"]
    assert creates == []


# --- 3. toapis creation with a prompt; generation fields pass through -------------------


async def test_page_toapis_creation_with_a_prompt_is_still_a_character() -> None:
    """toapis page: "prompt parameter is not required in this mode" (so it may be given)."""
    body = {"model": "sora-2", "url": CLIP, "timestamps": "1,3", "prompt": "the fox"}
    async with emulator(delay_s=0) as client:
        task_id = (await client.post(TOAPIS, json=body)).json()["id"]
        result = (await client.get(f"{TOAPIS}/{task_id}")).json()["result"]
    assert result["type"] == "character" and result["character_id"]


async def test_taskhook_toapis_creation_with_a_prompt(settings: Settings) -> None:
    creation = {"url": CLIP, "timestamps": "1,3", "prompt": "the fox"}
    generation = {"prompt": "a fox", "seconds": "10"}  # not on any page: the provider decides
    async with live_emulator(delay_s=0.2) as emu, taskhook(settings.replace(**FAST), emu) as th:
        made = await submit(th, "toapis", "sora-2", creation)
        other = await submit(th, "toapis", "sora-2", generation)
        character, video = await finished(th, made["id"]), await finished(th, other["id"])
    assert character["status"] == "succeeded"
    assert character["result"]["character_id"] == character["provider_task_id"]
    assert video["status"] == "succeeded" and video["result"]["video_urls"]


# --- 4. only the limits a page states ------------------------------------------------------


async def test_page_creatify_aurora_prompt_has_no_length_limit() -> None:
    """creatify-aurora page: `prompt` "Text prompt for controlling visual style and character
    performance", with no maximum length (unlike sora-2's "Maximum string length: 20000")."""
    body = {"model": "creatify-aurora", "image_url": IMG, "audio_url": WAV, "prompt": "p" * 30000}
    async with emulator() as client:
        answer = await client.post(FOXAPI, json=body)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("key", ["character_prompt", "safety_instruction"])
async def test_page_kie_texts_are_only_limited_to_5000(key: str) -> None:
    """kie page: "character_prompt: ... (Max 5000 characters)", "safety_instruction: ...
    (Max 5000 characters)": no minimum, so "" passes and 5001 characters do not."""
    async with emulator() as client:
        empty = (await client.post(KIE_CREATE, json=kie_body(**{key: ""}))).json()
        long = (await client.post(KIE_CREATE, json=kie_body(**{key: "x" * 5001}))).json()
    assert empty["code"] == 200 and empty["data"]["taskId"]
    assert long["code"] == 422 and "5000" in long["msg"]


@pytest.mark.parametrize("stamps", ["1.5,3", "1, 3", " 1,3", "0.5,2.5", "-1,1"])
async def test_page_toapis_timestamps_are_start_second_comma_end_second(stamps: str) -> None:
    """toapis page: timestamps 'format is "start_second,end_second"', e.g. "1,3"."""
    async with emulator() as client:
        answer = await client.post(TOAPIS, json={"model": "sora-2", "url": CLIP,
                                                 "timestamps": stamps})  # fmt: skip
    assert answer.status_code == 400
    assert "start_second,end_second" in answer.json()["error"]["message"]


async def test_taskhook_follows_the_page_limits(settings: Settings) -> None:
    cases = [
        ("foxapi", "creatify-aurora", {"image_url": IMG, "audio_url": WAV, "prompt": "p" * 30000},
         202),
        ("kie", "sora-2-characters", {"character_file_url": [CLIP], "character_prompt": ""}, 202),
        ("toapis", "sora-2", {"url": CLIP, "timestamps": "1.5,3"}, 422),
        ("toapis", "sora-2", {"url": CLIP, "timestamps": "1, 3"}, 422),
    ]  # fmt: skip
    async with live_emulator(delay_s=0.2) as emu, taskhook(settings.replace(**FAST), emu) as th:
        for provider, model, task_input, status in cases:
            answer = await th.post("/api/tasks", json={"provider": provider, "model": model,
                                                       "input": task_input})  # fmt: skip
            assert answer.status_code == status, (provider, model, answer.text)
            if status == 202:
                done = await finished(th, answer.json()["id"])
                assert done["status"] == "succeeded", done["error"]


# --- 5. kie Sora 2 video models ------------------------------------------------------------


async def test_page_kie_character_id_is_usable_in_a_video_model() -> None:
    """kie page: "character_id can be used to reference the generated character animation
    in subsequent operations"; kie's Sora 2 model pages take it in `character_id_list`
    (at most 5), and recordInfo's resultJson is `{"resultUrls": [...]}`."""
    async with emulator(delay_s=0) as client:
        made = (await client.post(KIE_CREATE, json=kie_body())).json()["data"]["taskId"]
        record = (await client.get(KIE_QUERY, params={"taskId": made})).json()["data"]
        character = json.loads(record["resultJson"])["character_id"]
        video = {"model": "sora-2-text-to-video",
                 "input": {"prompt": "me surfing", "character_id_list": [character]}}  # fmt: skip
        task_id = (await client.post(KIE_CREATE, json=video)).json()["data"]["taskId"]
        seen = await poll(client, f"{KIE_QUERY}?taskId={task_id}",
                          lambda b: b["data"]["state"] == "success")  # fmt: skip
        unknown = {**video, "input": {"prompt": "p", "character_id_list": ["char_nobody"]}}
        refused = (await client.post(KIE_CREATE, json=unknown)).json()
        six = {**video, "input": {"prompt": "p", "character_id_list": [character] * 6}}
        too_many = (await client.post(KIE_CREATE, json=six)).json()
    urls = json.loads(seen[-1]["data"]["resultJson"])["resultUrls"]
    assert character != made and urls and urls[0].endswith(".mp4")
    assert seen[-1]["data"]["model"] == "sora-2-text-to-video"
    assert refused["code"] == 422 and "char_nobody" in refused["msg"]
    assert too_many["code"] == 422 and "at most 5" in too_many["msg"]


@pytest.mark.parametrize(
    ("model", "task_input", "words"),
    [
        ("sora-2-text-to-video", {}, "prompt"),
        ("sora-2-image-to-video", {"prompt": "p"}, "image_urls"),
        ("sora-2-image-to-video", {"prompt": "p", "image_urls": [IMG, IMG]}, "image_urls"),
        ("sora-2-text-to-video", {"prompt": "p", "n_frames": 10}, "n_frames"),
        ("sora-2-text-to-video", {"prompt": "p", "aspect_ratio": "16:9"}, "aspect_ratio"),
        ("sora-2-pro-text-to-video", {"prompt": "p", "size": "1080p"}, "size"),
    ],
)
async def test_page_kie_video_model_inputs(
    model: str, task_input: dict[str, Any], words: str
) -> None:
    """kie's Sora 2 model pages: `n_frames` "10"/"15" (strings), `aspect_ratio`
    portrait/landscape, image-to-video "Maximum files: 1", pro `size` standard/high."""
    async with emulator() as client:
        answer = (await client.post(KIE_CREATE, json={"model": model, "input": task_input})).json()
    assert answer["code"] == 422 and words in answer["msg"]


# --- 6. both documented kie callback shapes ------------------------------------------------


async def test_page_kie_callbacks_name_the_task_both_ways() -> None:
    """kie's webhook verification guide reads `data.task_id`; the recordInfo shape (and
    NOTES.md) says `data.taskId`: with quirks, every other callback uses the other one."""
    inbox = Inbox()
    async with live_server(inbox.app()) as hooks, emulator(quirks=True, delay_s=0.1) as client:
        ids = [(await client.post(KIE_CREATE, json=kie_body(callback=f"{hooks}/hook"))).json()
               ["data"]["taskId"] for _ in range(2)]  # fmt: skip
        await wait_for(lambda: len(inbox.received) == 2, timeout_s=5)
    named = {
        body["data"].get("taskId") or body["data"].get("task_id") for _, body in inbox.received
    }
    shapes = {("taskId" in body["data"], "task_id" in body["data"]) for _, body in inbox.received}
    assert named == set(ids)
    assert shapes == {(True, False), (False, True)}


async def test_taskhook_accepts_both_kie_callback_shapes(settings: Settings) -> None:
    tuned = settings.replace(**FAST, poll_safety_interval_s=300.0)
    async with (
        live_emulator(delay_s=0.2, quirks=True) as emu,
        taskhook(tuned, emu, callbacks=True) as th,
    ):
        tasks = [await submit(th, "kie", "sora-2-characters", {"character_file_url": [CLIP]})
                 for _ in range(2)]  # fmt: skip
        done = [await finished(th, task["id"]) for task in tasks]
    assert [(d["status"], d["source"]) for d in done] == [("succeeded", "callback")] * 2
