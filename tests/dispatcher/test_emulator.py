"""The provider emulator over real loopback HTTP: shapes, timing, callbacks, faults, CLI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatcher.emulator import EmulatorConfig, create_emulator_app
from tests.cli_support import taskhook
from tests.support import free_port, live_server, wait_for

AUTH = {"Authorization": "Bearer test-provider-key"}
KIE_CREATE = "/api/v1/jobs/createTask"
KIE_QUERY = "/api/v1/jobs/recordInfo"
CLIP = "https://example.com/clip.mp4"


@asynccontextmanager
async def emulator(**config: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A live emulator (delay 0.2 s unless given) and a client with a bearer."""
    app = create_emulator_app(EmulatorConfig(**{"delay_s": 0.2, **config}))
    async with live_server(app) as base:
        async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=5) as client:
            yield client


class Inbox:
    """A tiny callback receiver; answers the given statuses in turn, then 200."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.statuses = list(statuses)

    async def hook(self, request: Request) -> Response:
        self.received.append((dict(request.headers), json.loads(await request.body())))
        return Response(status_code=self.statuses.pop(0) if self.statuses else 200)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])


def kie_body(callback: str | None = None, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "sora-2-characters",
        "input": {"character_file_url": [CLIP], **params},
    }
    if callback:
        body["callBackUrl"] = callback
    return body


async def poll(client: httpx.AsyncClient, url: str, done: Callable[[Any], bool]) -> list[Any]:
    """GET `url` until `done(body)`; return every body seen."""
    seen: list[Any] = []

    async def check() -> bool:
        body = (await client.get(url)).json()
        seen.append(body)
        return done(body)

    await wait_for(check, timeout_s=5, interval_s=0.03)
    return seen


# --- kie ---------------------------------------------------------------------------------


async def test_kie_create_query_success() -> None:
    async with emulator() as client:
        body = kie_body(character_prompt="a cheerful fox", safety_instruction="x" * 5000)
        created = (await client.post(KIE_CREATE, json=body)).json()
        assert created["code"] == 200 and created["msg"] == "success"
        task_id = created["data"]["taskId"]
        assert task_id.startswith("task_")
        url = f"{KIE_QUERY}?taskId={task_id}"
        seen = await poll(client, url, lambda b: b["data"]["state"] in ("success", "fail"))
    assert seen[0]["data"]["state"] in ("waiting", "queuing", "generating")
    assert seen[0]["data"]["completeTime"] is None
    final = seen[-1]
    assert final["code"] == 200 and final["msg"] == "success"
    data = final["data"]
    assert data["taskId"] == task_id and data["model"] == "sora-2-characters"
    assert data["state"] == "success" and data["failCode"] == "" and data["failMsg"] == ""
    assert json.loads(data["param"]) == body
    assert json.loads(data["resultJson"])["character_id"].startswith("char_")
    assert data["createTime"] <= data["completeTime"] == data["updateTime"]
    assert data["completeTime"] - data["createTime"] >= 150


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**kie_body(), "model": "sora-2"}, "model"),
        ({"model": "sora-2-characters"}, "input"),
        (kie_body() | {"input": {"character_file_url": [CLIP, CLIP]}}, "character_file_url"),
        (kie_body() | {"input": {"character_file_url": CLIP}}, "character_file_url"),
        (kie_body() | {"input": {"character_file_url": ["not a url"]}}, "character_file_url"),
        (kie_body(character_prompt="x" * 5001), "character_prompt"),
        (kie_body(safety_instruction="x" * 5001), "safety_instruction"),
        (kie_body(callback="ftp://nowhere"), "callBackUrl"),
    ],
)
async def test_kie_validation_is_an_in_body_422(body: dict[str, Any], words: str) -> None:
    async with emulator() as client:
        response = await client.post(KIE_CREATE, json=body)
    assert response.status_code == 200
    assert response.json()["code"] == 422 and words in response.json()["msg"]


async def test_kie_unknown_task_and_missing_bearer() -> None:
    async with emulator(api_key="right-key") as client:
        unknown = await client.get(KIE_QUERY, params={"taskId": "task_nope"},
                                   headers={"Authorization": "Bearer right-key"})  # fmt: skip
        anonymous = await client.post(KIE_CREATE, json=kie_body(), headers={"Authorization": ""})
        wrong = await client.get(KIE_QUERY, params={"taskId": "task_nope"})
    assert unknown.status_code == 200 and unknown.json() == {
        "code": 422, "msg": "recordInfo is null"}  # fmt: skip
    for response in (anonymous, wrong):
        assert response.status_code == 200 and response.json()["code"] == 401


async def test_kie_callback_is_signed_with_the_webhook_key() -> None:
    key = "kie-webhook-hmac-key"
    inbox = Inbox()
    async with live_server(inbox.app()) as hooks, emulator(kie_webhook_key=key) as client:
        created = await client.post(KIE_CREATE, json=kie_body(callback=f"{hooks}/hook"))
        task_id = created.json()["data"]["taskId"]
        await wait_for(lambda: inbox.received, timeout_s=5)
    headers, body = inbox.received[0]
    timestamp = headers["x-webhook-timestamp"]
    assert abs(int(timestamp) - time.time()) < 10
    mac = hmac.new(key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256)
    assert hmac.compare_digest(
        headers["x-webhook-signature"], base64.b64encode(mac.digest()).decode()
    )
    assert body["code"] == 200 and body["msg"] == "success"
    assert body["data"]["taskId"] == task_id and body["data"]["state"] == "success"
    assert "character_id" in json.loads(body["data"]["resultJson"])
    assert isinstance(body["data"]["costTime"], int)


async def test_kie_failed_task_calls_back_unsigned_without_a_key() -> None:
    inbox = Inbox()
    async with live_server(inbox.app()) as hooks, emulator(fail_rate=1.0) as client:
        await client.post(KIE_CREATE, json=kie_body(callback=f"{hooks}/hook"))
        await wait_for(lambda: inbox.received, timeout_s=5)
    headers, body = inbox.received[0]
    assert "x-webhook-signature" not in headers
    assert body["code"] == 501 and body["data"]["state"] == "fail"
    assert body["data"]["failCode"] and body["data"]["failMsg"] == body["msg"]
    assert body["data"]["resultJson"] == ""


async def test_callbacks_are_retried_then_counted() -> None:
    inbox = Inbox(statuses=(500, 503))
    async with live_server(inbox.app()) as hooks, emulator(delay_s=0.05) as client:
        await client.post(KIE_CREATE, json=kie_body(callback=f"{hooks}/hook"))
        await wait_for(lambda: len(inbox.received) == 3, timeout_s=5)
        stats = (await client.get("/_emulator/stats")).json()
    assert stats["callbacks"] == {"attempts": 3, "sent": 1, "failed": 0, "dropped": 0,
                                  "progress": 0}  # fmt: skip


async def test_paused_callbacks_are_dropped_until_resumed() -> None:
    inbox = Inbox()
    async with live_server(inbox.app()) as hooks, emulator(delay_s=0.05) as client:
        await client.post("/_emulator/callbacks/pause")
        lost = await client.post(KIE_CREATE, json=kie_body(callback=f"{hooks}/hook"))
        lost_id = lost.json()["data"]["taskId"]
        await wait_for(lambda: _stat(client, "dropped"), timeout_s=5)
        await client.post("/_emulator/callbacks/resume")
        kept = await client.post(KIE_CREATE, json=kie_body(callback=f"{hooks}/hook"))
        await wait_for(lambda: inbox.received, timeout_s=5)
        record = (await client.get(KIE_QUERY, params={"taskId": lost_id})).json()
    assert [body["data"]["taskId"] for _, body in inbox.received] == [
        kept.json()["data"]["taskId"]]  # fmt: skip
    assert record["data"]["state"] == "success"  # the lost callback's task still finished


async def _stat(client: httpx.AsyncClient, name: str) -> int:
    return int((await client.get("/_emulator/stats")).json()["callbacks"][name])


async def test_kie_quirks_alternate_message_key_and_character_id_list() -> None:
    async with emulator(quirks=True, delay_s=0) as client:
        records = []
        for _ in range(2):
            task_id = (await client.post(KIE_CREATE, json=kie_body())).json()["data"]["taskId"]
            records.append((await client.get(KIE_QUERY, params={"taskId": task_id})).json())
    assert {("msg" in r, "message" in r) for r in records} == {(True, False), (False, True)}
    results = [json.loads(r["data"]["resultJson"]) for r in records]
    assert {next(iter(result)) for result in results} == {"character_id", "character_id_list"}


# --- foxapi ------------------------------------------------------------------------------

FOX_BODIES = {
    "sora-2": {"model": "sora-2", "prompt": "waves at golden hour", "duration": 8},
    "sora-2-pro": {"model": "sora-2-pro", "prompt": "astronaut on Mars", "resolution": "1080p",
                   "aspect_ratio": "9:16", "character_ids": ["char_a", "char_b"]},
    "sora-2-character": {"model": "sora-2-character", "video_url": CLIP, "name": "Alice"},
    "creatify-aurora": {"model": "creatify-aurora", "image_url": "https://example.com/p.png",
                        "audio_url": "https://example.com/s.wav", "guidance_scale": 5},
}  # fmt: skip


@pytest.mark.parametrize("model", list(FOX_BODIES))
async def test_foxapi_create_query_completed(model: str) -> None:
    async with emulator(estimated_time_s=45) as client:
        created = await client.post("/v1/videos/generations", json=FOX_BODIES[model])
        assert created.status_code == 200
        task = created.json()
        assert set(task) == {"created", "id", "model", "object", "progress", "status",
                             "task_info", "type"}  # fmt: skip
        assert re.fullmatch(r"task-unified-\d{10}-[a-z0-9]{8}", task["id"])
        assert (task["object"], task["status"], task["progress"], task["type"]) == (
            "video.generation.task", "pending", 0, "video")  # fmt: skip
        assert task["task_info"] == {"can_cancel": True, "estimated_time": 45}
        seen = await poll(client, f"/v1/tasks/{task['id']}", lambda b: b["status"] == "completed")
    assert {b["status"] for b in seen[:-1]} <= {"pending", "processing"}
    final = seen[-1]
    assert final["id"] == task["id"] and final["model"] == model and final["progress"] == 100
    assert final["error"] is None and final["object"] == "video.generation.task"
    if model == "sora-2-character":
        (result,) = final["results"]
        assert result["character_id"].startswith("char_") and result["name"] == "Alice"
    else:
        assert final["results"][0]["url"].startswith("https://")


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"model": "sora-3", "prompt": "x"}, 400, "model"),
        ({"model": "sora-2"}, 422, "prompt"),
        ({"model": "sora-2", "prompt": "x" * 20001}, 422, "prompt"),
        ({"model": "sora-2", "prompt": "x", "duration": 5}, 422, "duration"),
        ({"model": "sora-2", "prompt": "x", "aspect_ratio": "1:1"}, 422, "aspect_ratio"),
        ({"model": "sora-2", "prompt": "x", "generation_type": "image-to-video"}, 422,
         "image_urls"),
        ({"model": "sora-2", "prompt": "x", "character_ids": ["a", "b", "c"]}, 422,
         "character_ids"),
        ({"model": "sora-2-character", "video_url": CLIP, "name": "x" * 81}, 422, "name"),
        ({"model": "sora-2-character", "name": "Alice"}, 422, "video_url"),
        ({**FOX_BODIES["creatify-aurora"], "guidance_scale": 6}, 422, "guidance_scale"),
        ({**FOX_BODIES["creatify-aurora"], "resolution": "1080p"}, 422, "resolution"),
        ({"model": "creatify-aurora", "image_url": "https://e.com/p.png"}, 422, "audio_url"),
        ([1, 2], 400, "object"),
    ],
)  # fmt: skip
async def test_foxapi_validation_errors(body: Any, status: int, words: str) -> None:
    async with emulator() as client:
        response = await client.post("/foxapi/v1/videos/generations", json=body)
    assert response.status_code == status
    assert words in response.json()["error"]["message"]


async def test_foxapi_quirks_use_output_for_every_other_video() -> None:
    async with emulator(quirks=True, delay_s=0) as client:
        finals = []
        for _ in range(2):
            created = await client.post("/v1/videos/generations", json=FOX_BODIES["sora-2"])
            finals.append((await client.get(f"/v1/tasks/{created.json()['id']}")).json())
    output = next(f["output"] for f in finals if "output" in f)
    assert output["urls"] == [output["url"]] and output["duration"] == 8
    assert (output["width"], output["height"]) == (1280, 720)
    assert any(f.get("results") and f["results"][0]["url"] for f in finals)


async def test_foxapi_callback_url_gets_the_final_task_unsigned() -> None:
    inbox = Inbox()
    async with live_server(inbox.app()) as hooks, emulator() as client:
        body = {**FOX_BODIES["sora-2"], "callback_url": f"{hooks}/hook"}
        task_id = (await client.post("/v1/videos/generations", json=body)).json()["id"]
        await wait_for(lambda: inbox.received, timeout_s=5)
    headers, sent = inbox.received[0]
    assert sent["id"] == task_id and sent["status"] == "completed" and sent["results"]
    assert not any(h.startswith("x-webhook") for h in headers)


async def test_foxapi_unknown_task_is_404() -> None:
    async with emulator() as client:
        response = await client.get("/v1/tasks/task-unified-1-nothere")
    assert response.status_code == 404 and "not found" in response.json()["error"]["message"]


# --- toapis ------------------------------------------------------------------------------


async def test_toapis_character_then_video_with_character_url() -> None:
    async with emulator() as client:
        created = await client.post(
            "/toapis/v1/videos/generations",
            json={"model": "sora-2", "url": CLIP, "timestamps": "1,3"},
        )
        character = created.json()
        assert set(character) == {"id", "object", "model", "status", "progress", "created_at",
                                  "metadata"}  # fmt: skip
        assert re.fullmatch(r"task_01[0-9A-HJKMNP-TV-Z]{24}", character["id"])
        assert (character["object"], character["status"], character["progress"]) == (
            "generation.task", "queued", 0)  # fmt: skip
        url = f"/v1/videos/generations/{character['id']}"
        seen = await poll(client, url, lambda b: b["status"] == "completed")
        assert {b["status"] for b in seen[:-1]} <= {"queued", "in_progress"}
        done = seen[-1]
        # its own character id differs from the task id (which character_url takes)
        assert done["result"]["character_id"] not in (None, character["id"])
        assert done["expires_at"] - done["completed_at"] == 86400
        video = await client.post("/toapis/v1/videos/generations", json={
            "model": "sora-2-pro", "prompt": "the character waves",
            "character_url": character["id"]})  # fmt: skip
        assert video.status_code == 200
        url = f"/toapis/v1/videos/generations/{video.json()['id']}"
        final = (await poll(client, url, lambda b: b["status"] == "completed"))[-1]
    assert final["result"]["url"].startswith("https://") and final["progress"] == 100


async def test_toapis_character_from_a_video_task_via_the_root_path() -> None:
    async with emulator(delay_s=0) as client:
        video = await client.post(
            "/toapis/v1/videos/generations", json={"model": "sora-2", "prompt": "a dancer"}
        )
        character = await client.post(
            "/v1/videos/generations",
            json={"model": "sora-2-vip", "from_task": video.json()["id"], "timestamps": "0,1"},
        )
    assert character.status_code == 200 and character.json()["object"] == "generation.task"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"model": "sora-2", "url": CLIP, "from_task": "task_01X", "timestamps": "1,3"},
         "exactly one"),
        ({"model": "sora-2", "timestamps": "1,3", "url": ""}, "exactly one"),
        ({"model": "sora-2", "url": CLIP, "timestamps": "1,5"}, "timestamps"),
        ({"model": "sora-2", "url": CLIP, "timestamps": "2,2.5"}, "timestamps"),
        ({"model": "sora-2", "url": CLIP, "timestamps": "a,b"}, "timestamps"),
        ({"model": "sora-2", "url": CLIP}, "timestamps"),
        ({"model": "sora-2", "from_task": "task_01UNKNOWN", "timestamps": "1,2"}, "from_task"),
        ({"model": "sora-3", "url": CLIP, "timestamps": "1,2"}, "model"),
        ({"model": "sora-2", "prompt": "x", "character_url": "task_01NOPE"}, "character_url"),
    ],
)  # fmt: skip
async def test_toapis_validation_errors(body: dict[str, Any], words: str) -> None:
    async with emulator() as client:
        response = await client.post("/toapis/v1/videos/generations", json=body)
    assert response.status_code == 400 and words in response.json()["error"]["message"]


# --- every provider ------------------------------------------------------------------------


async def test_every_endpoint_needs_a_bearer() -> None:
    async with emulator() as client:
        bare = {"Authorization": ""}
        fox = await client.post("/v1/videos/generations", json=FOX_BODIES["sora-2"], headers=bare)
        fox_get = await client.get("/v1/tasks/x", headers={"Authorization": "Basic abc"})
        to = await client.post("/toapis/v1/videos/generations", headers=bare,
                               json={"model": "sora-2", "prompt": "x"})  # fmt: skip
        to_get = await client.get("/v1/videos/generations/task_01X", headers=bare)
        kie = await client.post(KIE_CREATE, json=kie_body(), headers={"Authorization": "Bearer"})
    assert [r.status_code for r in (fox, fox_get, to, to_get)] == [401] * 4
    assert all(r.json()["error"]["message"] for r in (fox, fox_get, to, to_get))
    assert kie.status_code == 200 and kie.json()["code"] == 401


async def test_fail_rate_1_fails_every_task_with_a_message() -> None:
    async with emulator(fail_rate=1.0, delay_s=0) as client:
        kie_id = (await client.post(KIE_CREATE, json=kie_body())).json()["data"]["taskId"]
        kie = (await client.get(KIE_QUERY, params={"taskId": kie_id})).json()["data"]
        fox_id = (await client.post("/v1/videos/generations", json=FOX_BODIES["sora-2"])).json()
        fox = (await client.get(f"/v1/tasks/{fox_id['id']}")).json()
        to_id = await client.post(
            "/v1/videos/generations", json={"model": "sora-2", "url": CLIP, "timestamps": "0,2"}
        )
        to = (await client.get(f"/v1/videos/generations/{to_id.json()['id']}")).json()
    assert kie["state"] == "fail" and kie["failMsg"] and kie["failCode"]
    assert fox["status"] == "failed" and fox["error"]["message"] and fox["results"] is None
    assert to["status"] == "failed" and to["error"]["message"] and "result" not in to


async def test_stats_count_requests_per_provider_and_task() -> None:
    async with emulator(delay_s=60) as client:
        task_id = (await client.post(KIE_CREATE, json=kie_body())).json()["data"]["taskId"]
        for _ in range(3):
            await client.get(KIE_QUERY, params={"taskId": task_id})
        fox = (await client.post("/v1/videos/generations", json=FOX_BODIES["sora-2"])).json()
        await client.get(f"/v1/tasks/{fox['id']}")
        stats = (await client.get("/_emulator/stats")).json()
        await client.delete("/_emulator/stats")
        after = (await client.get("/_emulator/stats")).json()
    assert stats["requests"] == {"kie": {"create": 1, "query": 3},
                                 "foxapi": {"create": 1, "query": 1}}  # fmt: skip
    assert stats["tasks"][task_id] == {"provider": "kie", "create": 1, "query": 3}
    assert stats["tasks"][fox["id"]] == {"provider": "foxapi", "create": 1, "query": 1}
    assert stats["total"] == 6 and after["total"] == 0 and after["tasks"] == {}


async def test_finish_hook_ends_tasks_early() -> None:
    async with emulator(delay_s=60) as client:
        fox = (await client.post("/v1/videos/generations", json=FOX_BODIES["sora-2"])).json()
        kie_id = (await client.post(KIE_CREATE, json=kie_body())).json()["data"]["taskId"]
        assert (await client.get(f"/v1/tasks/{fox['id']}")).json()["status"] == "pending"
        ok = await client.post(f"/_emulator/tasks/{fox['id']}/finish")
        failed = await client.post(f"/_emulator/tasks/{kie_id}/finish", json={"fail": True})
        again = await client.post(f"/_emulator/tasks/{kie_id}/finish")
        unknown = await client.post("/_emulator/tasks/nope/finish")
        fox_now = (await client.get(f"/v1/tasks/{fox['id']}")).json()
        kie_now = (await client.get(KIE_QUERY, params={"taskId": kie_id})).json()["data"]
    assert ok.json()["status"] == "succeeded" and fox_now["status"] == "completed"
    assert failed.json()["status"] == "failed" and kie_now["state"] == "fail"
    assert (again.status_code, unknown.status_code) == (409, 404)


# --- faults --------------------------------------------------------------------------------


async def test_fault_429_with_retry_after_for_the_next_n_requests() -> None:
    async with emulator() as client:
        programmed = await client.post("/_emulator/faults", json={
            "provider": "kie", "operation": "create", "status": 429, "retry_after": 1,
            "times": 2})  # fmt: skip
        answers = [await client.post(KIE_CREATE, json=kie_body()) for _ in range(3)]
        stats = (await client.get("/_emulator/stats")).json()
    assert programmed.status_code == 201
    for limited in answers[:2]:
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
        assert limited.json()["code"] == 429
    assert answers[2].json()["code"] == 200
    assert stats["requests"]["kie"]["create"] == 3 and len(stats["tasks"]) == 1


async def test_fault_in_body_402_and_malformed_json() -> None:
    async with emulator() as client:
        await client.post("/_emulator/faults", json=[
            {"provider": "kie", "operation": "create", "in_body_code": 402},
            {"provider": "kie", "operation": "create", "malformed": True}])  # fmt: skip
        credits = await client.post(KIE_CREATE, json=kie_body())
        garbled = await client.post(KIE_CREATE, json=kie_body())
        fine = await client.post(KIE_CREATE, json=kie_body())
    assert credits.status_code == 200 and credits.json()["code"] == 402 and credits.json()["msg"]
    assert garbled.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        garbled.json()
    assert fine.json()["code"] == 200


async def test_fault_hang_makes_the_client_time_out_once() -> None:
    async with emulator(delay_s=0) as client:
        created = (await client.post("/v1/videos/generations", json=FOX_BODIES["sora-2"])).json()
        await client.post(
            "/_emulator/faults", json={"provider": "foxapi", "operation": "query", "hang_s": 1}
        )
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"/v1/tasks/{created['id']}", timeout=0.2)
        after = await client.get(f"/v1/tasks/{created['id']}")
        cleared = await client.delete("/_emulator/faults")
    assert after.json()["status"] == "completed" and cleared.json() == {"cleared": 0}


async def test_fault_for_toapis_query_uses_its_error_shape_and_invalid_faults_are_400() -> None:
    async with emulator() as client:
        await client.post(
            "/_emulator/faults",
            json={
                "provider": "toapis",
                "operation": "query",
                "status": 503,
                "message": "upstream busy",
            },
        )
        busy = await client.get("/v1/videos/generations/task_01ANY")
        bad = await client.post("/_emulator/faults", json={"provider": "kie", "operation": "x"})
        unknown = await client.post("/_emulator/faults", json={
            "provider": "kie", "operation": "create", "stauts": 429})  # fmt: skip
    assert busy.status_code == 503 and busy.json()["error"]["message"] == "upstream busy"
    assert bad.status_code == 400 and "operation" in bad.json()["error"]["message"]
    assert unknown.status_code == 400 and "stauts" in unknown.json()["error"]["message"]


# --- CLI -----------------------------------------------------------------------------------


def test_cli_emulator_serves_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHOOK_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dispatcher.cli", "emulator", "--port", str(port),
         "--delay", "0.1", "--kie-webhook-key", "k"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"{base}/_emulator/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert health.json()["signed_kie_callbacks"] is True
        created = httpx.post(f"{base}{KIE_CREATE}", json=kie_body(), headers=AUTH)
        assert created.json()["code"] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "provider emulator on" in err


def test_cli_emulator_rejects_a_bad_fail_rate(tmp_path: Path) -> None:
    out = taskhook("emulator", "--fail-rate", "2", cwd=tmp_path)
    assert out.returncode == 2 and "fail_rate" in out.stderr and "Traceback" not in out.stderr
