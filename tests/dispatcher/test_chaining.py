"""`then` follow-ups: templating, validation at submission, exactly one child on success."""

from __future__ import annotations

import asyncio
import json

import pytest

from dispatcher.chaining import MissingValue, context_from, placeholders_in, render
from dispatcher.submission import parse_submission
from receiver.errors import InvalidInput
from receiver.settings import Settings
from receiver.store.completion import Outcome, record_completion
from tests.dispatcher.fake_adapter import FakeAdapter
from tests.dispatcher.harness import FAST, Harness, harness

CONTEXT = {"character_id": "char_42", "provider_task_id": "task_9", "character_name": "Ada"}
ADAPTERS = {"fake": FakeAdapter()}


def test_render_fills_placeholders_everywhere() -> None:
    template = {
        "character_ids": ["{{character_id}}"],
        "character_url": "{{ provider_task_id }}",
        "prompt": "{{character_name}} walks a dog",
        "nested": {"list": [{"id": "{{character_id}}"}], "n": 3, "flag": True},
    }
    assert render(template, CONTEXT) == {
        "character_ids": ["char_42"],
        "character_url": "task_9",
        "prompt": "Ada walks a dog",
        "nested": {"list": [{"id": "char_42"}], "n": 3, "flag": True},
    }
    assert placeholders_in(template) == {"character_id", "provider_task_id", "character_name"}


def test_render_refuses_a_value_the_parent_does_not_have() -> None:
    with pytest.raises(MissingValue) as caught:
        render({"character_id_list": ["{{character_id}}"]}, {"character_id": None})
    assert caught.value.name == "character_id"


def character_then_video(**then_input: object) -> dict[str, object]:
    return {
        "provider": "fake",
        "model": "character",
        "input": {"video_url": "https://cdn.example/me.mp4"},
        "then": {"provider": "fake", "model": "video",
                 "input": {"prompt": "@me dancing", "character_ids": ["{{character_id}}"],
                           **then_input}},
    }  # fmt: skip


def test_a_valid_follow_up_is_kept_with_its_placeholders() -> None:
    parsed = parse_submission(character_then_video(), ADAPTERS)
    assert parsed.then is not None
    assert parsed.then["input"]["character_ids"] == ["{{character_id}}"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"provider": "nope"}, "then.provider"),
        ({"model": "sora-9"}, "then.model"),
        ({"input": {"character_ids": ["{{character_id}}"]}}, "then.input.prompt"),
        ({"input": {"prompt": "x", "character_ids": ["{{charcter_id}}"]}}, "then.input"),
    ],
)
def test_a_bad_follow_up_is_refused_at_submission(change: dict[str, object], field: str) -> None:
    body = character_then_video()
    body["then"] = {**body["then"], **change}  # type: ignore[dict-item]
    with pytest.raises(InvalidInput) as caught:
        parse_submission(body, ADAPTERS)
    assert caught.value.field == field


def test_placeholders_outside_a_follow_up_are_refused() -> None:
    body = {"provider": "fake", "model": "video", "input": {"prompt": "{{character_id}}"}}
    with pytest.raises(InvalidInput) as caught:
        parse_submission(body, ADAPTERS)
    assert caught.value.field == "input.prompt"


async def run_all(h: Harness, rounds: int = 40) -> None:
    for _ in range(rounds):
        await h.tick()
        await asyncio.sleep(0.02)
        rows = await h.runtime.db.fetchall("SELECT status FROM tasks")
        if all(r["status"] not in ("submitted", "running") for r in rows):
            return


async def test_the_child_is_submitted_once_with_the_parents_character(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.extend([{"character_id": "char_42"}, "succeeded"])
    async with harness(settings.replace(**FAST), adapter) as h:
        parent = (await h.submit(character_then_video())).json()
        await run_all(h)
        children = (await h.client.get("/api/tasks", params={"parent_id": parent["id"]})).json()
        [child] = children["items"]
        assert child["input"]["character_ids"] == ["char_42"]
        assert child["status"] == "succeeded"
        sent = [s for s in adapter.submitted if s["model"] == "video"]
        assert len(sent) == 1 and sent[0]["input"]["character_ids"] == ["char_42"]
        # a late duplicate completion of the parent creates nothing
        again = Outcome(parent["id"], "succeeded", "callback", {"character_id": "char_42"})
        assert (
            await record_completion(h.runtime.db, again, hooks=h.runtime.completion_hooks) is None
        )
        assert len((await h.client.get("/api/tasks")).json()["items"]) == 2


async def test_a_failed_parent_has_no_child(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.append("failed")
    async with harness(settings.replace(**FAST), adapter) as h:
        await h.submit(character_then_video())
        await run_all(h)
        assert len((await h.client.get("/api/tasks")).json()["items"]) == 1


async def test_nested_follow_ups_run_in_order(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.extend([{"character_id": "c1"}, "succeeded", "succeeded"])
    body = character_then_video()
    body["then"]["then"] = {  # type: ignore[index]
        "provider": "fake", "model": "video", "input": {"prompt": "after {{provider_task_id}}"},
    }  # fmt: skip
    async with harness(settings.replace(**FAST), adapter) as h:
        await h.submit(body)
        await run_all(h)
        prompts = [s["input"].get("prompt") for s in adapter.submitted]
        assert prompts == [None, "@me dancing", "after fake-2"]


async def test_a_missing_value_fails_the_child_and_says_why(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.append({"video_urls": ["https://cdn/x.mp4"]})  # no character_id
    async with harness(settings.replace(**FAST), adapter) as h:
        parent = (await h.submit(character_then_video())).json()
        await run_all(h)
        found = (await h.client.get("/api/tasks", params={"parent_id": parent["id"]})).json()
        [child] = found["items"]
        assert child["status"] == "failed"
        assert child["error"]["code"] == "chain_missing_value"
        assert "character_id" in child["error"]["message"]


def test_video_url_is_never_a_picture() -> None:
    """{{video_url}} hands the next task a video; a picture is {{image_url}}."""
    result = {"video_urls": ["https://cdn/v.mp4"], "image_urls": ["https://cdn/thumb.jpg"],
              "character_id": None, "character_name": None}  # fmt: skip
    parent = {"id": "tsk_1", "provider_task_id": "task_9", "result": json.dumps(result)}
    context = context_from(parent)
    assert (context["video_url"], context["image_url"]) == ("https://cdn/v.mp4",
                                                            "https://cdn/thumb.jpg")  # fmt: skip
    character = {**result, "video_urls": [], "image_urls": ["https://cdn/profile.webp"]}
    with pytest.raises(MissingValue):
        render("{{video_url}}", context_from({**parent, "result": json.dumps(character)}))
