"""Adapters over httpx.MockTransport: exact requests, result parsing, error mapping."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from dispatcher.providers import get_adapter
from dispatcher.providers.base import ProviderRejected, ProviderUnavailable
from receiver.retry import parse_retry_after
from receiver.settings import ProviderSettings

KEY = "sk-test-secret-123"
CALLBACK = "https://hooks.example/callbacks/kie/tok123"
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler answering canned responses and keeping every request."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0)

    @property
    def only(self) -> httpx.Request:
        assert len(self.requests) == 1
        return self.requests[0]


def settings_for(name: str, **changes: Any) -> ProviderSettings:
    values: dict[str, Any] = {"name": name, "base_url": f"https://{name}.test", "api_key": KEY}
    values.update(changes)
    return ProviderSettings(**values)


def client(handler: Handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def assert_headers(request: httpx.Request) -> None:
    assert request.headers["authorization"] == f"Bearer {KEY}"
    if request.method == "POST":
        assert request.headers["content-type"] == "application/json"


# --- kie ---------------------------------------------------------------------------------

KIE_OK = {"code": 200, "msg": "success", "data": {"taskId": "task_kie_1"}}


async def test_kie_submit_sends_model_callback_and_input() -> None:
    rec = Recorder(httpx.Response(200, json=KIE_OK))
    task_input = {"character_file_url": ["https://f/c.mp4"], "character_prompt": "hero"}
    async with client(rec) as http:
        got = await get_adapter("kie").submit(
            http, settings_for("kie"), "sora-2-characters", task_input, CALLBACK
        )
    assert got.provider_task_id == "task_kie_1"
    req = rec.only
    assert (req.method, str(req.url)) == ("POST", "https://kie.test/api/v1/jobs/createTask")
    assert_headers(req)
    assert body_of(req) == {
        "model": "sora-2-characters",
        "callBackUrl": CALLBACK,
        "progressCallBackUrl": CALLBACK,  # progress reports to the same per-task URL
        "input": task_input,
    }


async def test_kie_submit_without_callback_omits_the_field() -> None:
    rec = Recorder(httpx.Response(200, json=KIE_OK))
    async with client(rec) as http:
        await get_adapter("kie").submit(
            http, settings_for("kie"), "sora-2-text-to-video", {"prompt": "p"}, None
        )
    assert body_of(rec.only) == {"model": "sora-2-text-to-video", "input": {"prompt": "p"}}


async def test_kie_submit_without_task_id_is_transient() -> None:
    rec = Recorder(httpx.Response(200, json={"code": 200, "msg": "success", "data": {}}))
    async with client(rec) as http:
        with pytest.raises(ProviderUnavailable, match="taskId"):
            await get_adapter("kie").submit(
                http, settings_for("kie"), "sora-2-characters", {}, None
            )


def record(state: str, **extra: Any) -> dict[str, Any]:
    data = {"taskId": "task_kie_1", "model": "sora-2-characters", "state": state, **extra}
    return {"code": 200, "msg": "success", "data": data}


@pytest.mark.parametrize(
    ("result_json", "expected"),
    [
        ('{"character_id": "char_1"}', {"character_id": "char_1", "video_urls": []}),
        ('{"character_id_list": ["char_2", "x"]}', {"character_id": "char_2", "video_urls": []}),
        (
            '{"resultUrls": ["https://r/v.mp4"]}',
            {"character_id": None, "video_urls": ["https://r/v.mp4"]},
        ),
    ],
)
async def test_kie_query_parses_record(result_json: str, expected: dict[str, Any]) -> None:
    rec = Recorder(httpx.Response(200, json=record("success", resultJson=result_json)))
    async with client(rec) as http:
        state = await get_adapter("kie").query(http, settings_for("kie"), "task_kie_1")
    req = rec.only
    assert req.method == "GET"
    assert str(req.url) == "https://kie.test/api/v1/jobs/recordInfo?taskId=task_kie_1"
    assert_headers(req)
    assert state.status == "succeeded"
    assert state.result == {**expected, "character_name": None, "image_urls": []}


async def test_kie_query_failed_and_running() -> None:
    rec = Recorder(
        httpx.Response(200, json=record("fail", failCode="500", failMsg="internal")),
        httpx.Response(200, json=record("generating")),
    )
    async with client(rec) as http:
        failed = await get_adapter("kie").query(http, settings_for("kie"), "task_kie_1")
        running = await get_adapter("kie").query(http, settings_for("kie"), "task_kie_1")
    assert failed.error == {"code": "provider_500", "message": "internal"}
    assert running.status == "running"


async def test_kie_unknown_record_is_rejected() -> None:
    rec = Recorder(httpx.Response(200, json={"code": 422, "msg": "recordInfo is null"}))
    async with client(rec) as http:
        with pytest.raises(ProviderRejected, match="recordInfo is null") as caught:
            await get_adapter("kie").query(http, settings_for("kie"), "nope")
    assert caught.value.to_error()["code"] == "provider_422"


# --- foxapi ------------------------------------------------------------------------------

FOX_CREATED = {
    "created": 1757165031,
    "id": "task-unified-1",
    "object": "video.generation.task",
    "progress": 0,
    "status": "pending",
    "task_info": {"can_cancel": True, "estimated_time": 45},
    "type": "video",
}


@pytest.mark.parametrize(
    ("model", "task_input"),
    [
        ("sora-2", {"prompt": "waves", "aspect_ratio": "16:9", "duration": 8}),
        ("sora-2-pro", {"prompt": "waves", "resolution": "1080p"}),
        ("sora-2-character", {"video_url": "https://f/c.mp4", "name": "Alice"}),
        ("creatify-aurora", {"image_url": "https://f/i.png", "audio_url": "https://f/a.wav"}),
    ],
)
async def test_foxapi_submit_flat_body(model: str, task_input: dict[str, Any]) -> None:
    rec = Recorder(httpx.Response(200, json=FOX_CREATED))
    async with client(rec) as http:
        got = await get_adapter("foxapi").submit(
            http, settings_for("foxapi"), model, task_input, CALLBACK
        )
    req = rec.only
    assert (req.method, str(req.url)) == ("POST", "https://foxapi.test/v1/videos/generations")
    assert_headers(req)
    assert body_of(req) == {"model": model, **task_input}  # no callback_url: not opted in
    assert got.provider_task_id == "task-unified-1"
    assert got.estimated_time_s == 45.0
    assert got.state is not None
    assert got.state.status == "submitted"


async def test_foxapi_callback_url_only_for_listed_models() -> None:
    rec = Recorder(httpx.Response(200, json=FOX_CREATED), httpx.Response(200, json=FOX_CREATED))
    listed = settings_for("foxapi", callback_models=frozenset({"sora-2"}))
    adapter = get_adapter("foxapi")
    async with client(rec) as http:
        await adapter.submit(http, listed, "sora-2", {"prompt": "p"}, CALLBACK)
        await adapter.submit(http, listed, "sora-2", {"prompt": "p"}, None)
    assert body_of(rec.requests[0]) == {"model": "sora-2", "prompt": "p", "callback_url": CALLBACK}
    assert body_of(rec.requests[1]) == {"model": "sora-2", "prompt": "p"}
    assert adapter.supports_callback("sora-2", listed)
    assert not adapter.supports_callback("sora-2-pro", listed)


async def test_foxapi_submit_without_estimate() -> None:
    rec = Recorder(httpx.Response(200, json={"id": "t2", "status": "pending", "task_info": {}}))
    async with client(rec) as http:
        got = await get_adapter("foxapi").submit(
            http, settings_for("foxapi"), "sora-2", {"prompt": "p"}, None
        )
    assert got.estimated_time_s is None


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (
            {"results": [{"url": "https://r/1.mp4"}, {"url": "https://r/2.mp4"}]},
            {
                "video_urls": ["https://r/1.mp4", "https://r/2.mp4"],
                "character_id": None,
                "character_name": None,
                "image_urls": [],
            },
        ),
        (
            {"output": {"url": "https://o/1.mp4", "urls": ["https://o/2.mp4"], "width": 720}},
            {
                "video_urls": ["https://o/1.mp4", "https://o/2.mp4"],
                "character_id": None,
                "character_name": None,
                "image_urls": [],
            },
        ),
        (
            {"results": [{"character_id": "ch_1", "name": "Alice"}]},
            {"video_urls": [], "character_id": "ch_1", "character_name": "Alice", "image_urls": []},
        ),
    ],
)
async def test_foxapi_query_parses_both_result_shapes(
    task: dict[str, Any], expected: dict[str, Any]
) -> None:
    answer = {"id": "task/1", "object": "video.generation.task", "status": "completed", **task}
    rec = Recorder(httpx.Response(200, json=answer))
    async with client(rec) as http:
        state = await get_adapter("foxapi").query(http, settings_for("foxapi"), "task/1")
    req = rec.only
    assert req.method == "GET"
    assert req.url.raw_path == b"/v1/tasks/task%2F1"
    assert_headers(req)
    assert (state.status, state.progress, state.result) == ("succeeded", 100, expected)


# --- toapis ------------------------------------------------------------------------------

TO_CREATED = {
    "id": "task_01KB",
    "object": "generation.task",
    "model": "sora-2",
    "status": "queued",
    "progress": 0,
    "created_at": 1703884800,
    "metadata": {},
}


@pytest.mark.parametrize(
    "task_input",
    [
        {"url": "https://f/v.mp4", "timestamps": "1,3"},
        {"from_task": "task_00A", "timestamps": "0,2"},
        {"prompt": "@alice surfs", "character_url": "task_01KB"},
    ],
)
async def test_toapis_submit_both_modes(task_input: dict[str, Any]) -> None:
    rec = Recorder(httpx.Response(200, json=TO_CREATED))
    adapter = get_adapter("toapis")
    async with client(rec) as http:
        got = await adapter.submit(http, settings_for("toapis"), "sora-2", task_input, CALLBACK)
    req = rec.only
    assert (req.method, str(req.url)) == ("POST", "https://toapis.test/v1/videos/generations")
    assert_headers(req)
    assert body_of(req) == {"model": "sora-2", **task_input}  # never a callback
    assert got.provider_task_id == "task_01KB"
    assert got.state is not None
    assert got.state.status == "submitted"
    assert not adapter.supports_callback("sora-2", settings_for("toapis"))


async def test_toapis_query_character_and_video() -> None:
    """The stored request decides the mode: a character's picture is never a video."""
    picture = "https://v/avatar"  # no extension and a neutral key inside the character
    result = {"character_id": "c", "name": "Al", "avatar": picture}
    character = {**TO_CREATED, "status": "completed", "result": result}
    video = {
        **TO_CREATED,
        "id": "task_V",
        "status": "completed",
        "result": {"url": "https://v/out.mp4", "cover_url": "https://v/cover"},
    }
    rec = Recorder(httpx.Response(200, json=character), httpx.Response(200, json=video))
    creation = {"url": "https://v/in.mp4", "timestamps": "1,3"}
    async with client(rec) as http:
        adapter = get_adapter("toapis")
        made = await adapter.query(http, settings_for("toapis"), "task_01KB", creation)
        clip = await adapter.query(http, settings_for("toapis"), "task_V", {"prompt": "a fox"})
    assert str(rec.requests[0].url) == "https://toapis.test/v1/videos/generations/task_01KB"
    assert rec.requests[0].method == "GET"
    assert made.result == {
        "video_urls": [],
        "image_urls": [picture],
        "character_id": "task_01KB",
        "character_name": "Al",
    }
    assert clip.result == {
        "video_urls": ["https://v/out.mp4"],
        "image_urls": ["https://v/cover"],
        "character_id": None,
        "character_name": None,
    }


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["kie", "foxapi", "toapis"])
async def test_missing_api_key_names_the_variable(provider: str) -> None:
    rec = Recorder()
    adapter = get_adapter(provider)
    async with client(rec) as http:
        with pytest.raises(ProviderRejected) as caught:
            await adapter.query(http, settings_for(provider, api_key=None), "t1")
    assert f"TASKHOOK_{provider.upper()}_API_KEY" in caught.value.message
    assert rec.requests == []


REJECTED = [400, 401, 402, 403, 404, 422, 433, 451, 501, 505]
UNAVAILABLE = [408, 429, 455, 500, 502, 503, 504]


@pytest.mark.parametrize("status", REJECTED)
@pytest.mark.parametrize("key", ["msg", "message", "error"])
async def test_http_status_rejected_with_provider_message(status: int, key: str) -> None:
    said: Any = {"message": "bad thing"} if key == "error" else "bad thing"
    rec = Recorder(httpx.Response(status, json={key: said}))
    async with client(rec) as http:
        with pytest.raises(ProviderRejected) as caught:
            await get_adapter("foxapi").query(http, settings_for("foxapi"), "t1")
    err = caught.value
    assert not err.retryable
    assert "bad thing" in err.message
    assert err.http_status == status
    assert err.to_error()["code"] == f"provider_{status}"
    assert KEY not in str(err)


@pytest.mark.parametrize("status", UNAVAILABLE)
async def test_http_status_unavailable_with_retry_after(status: int) -> None:
    rec = Recorder(
        httpx.Response(status, json={"message": "slow down"}, headers={"Retry-After": "7"})
    )
    async with client(rec) as http:
        with pytest.raises(ProviderUnavailable) as caught:
            await get_adapter("toapis").query(http, settings_for("toapis"), "t1")
    assert caught.value.retryable
    assert caught.value.retry_after_s == 7.0
    assert "slow down" in caught.value.message


@pytest.mark.parametrize("code", REJECTED)
async def test_kie_in_body_code_with_http_200_rejected(code: int) -> None:
    rec = Recorder(httpx.Response(200, json={"code": code, "msg": f"kie says {code}"}))
    async with client(rec) as http:
        with pytest.raises(ProviderRejected) as caught:
            await get_adapter("kie").submit(
                http, settings_for("kie"), "sora-2-characters", {}, None
            )
    assert f"kie says {code}" in caught.value.message
    assert caught.value.code == code
    assert caught.value.to_error()["code"] == f"provider_{code}"


@pytest.mark.parametrize("code", [429, 455, 500, "503"])
async def test_kie_in_body_code_with_http_200_unavailable(code: int | str) -> None:
    answer = httpx.Response(200, json={"code": code, "msg": "busy"}, headers={"Retry-After": "3"})
    async with client(Recorder(answer)) as http:
        with pytest.raises(ProviderUnavailable) as caught:
            await get_adapter("kie").query(http, settings_for("kie"), "t1")
    assert caught.value.retry_after_s == 3.0
    assert caught.value.code == int(code)


async def test_kie_hint_for_bad_key() -> None:
    rec = Recorder(httpx.Response(200, json={"code": 401, "msg": "Unauthorized"}))
    async with client(rec) as http:
        with pytest.raises(ProviderRejected, match="TASKHOOK_KIE_API_KEY"):
            await get_adapter("kie").query(http, settings_for("kie"), "t1")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>gateway</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, content=b""),
    ],
)
async def test_malformed_2xx_body_is_transient(response: httpx.Response) -> None:
    async with client(Recorder(response)) as http:
        with pytest.raises(ProviderUnavailable, match="not a JSON object") as caught:
            await get_adapter("foxapi").query(http, settings_for("foxapi"), "t1")
    assert caught.value.to_error()["code"] == "provider_malformed_response"


async def test_non_json_error_body_keeps_status_mapping() -> None:
    rec = Recorder(httpx.Response(502, text="<html>Bad Gateway</html>"))
    async with client(rec) as http:
        with pytest.raises(ProviderUnavailable, match="Bad Gateway"):
            await get_adapter("foxapi").query(http, settings_for("foxapi"), "t1")


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (httpx.ConnectError("refused"), "network"),
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectTimeout("slow"), "timeout"),
        (httpx.RemoteProtocolError("eof"), "network"),
    ],
)
async def test_transport_errors_are_transient_and_chained(exc: Exception, code: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    async with client(handler) as http:
        with pytest.raises(ProviderUnavailable) as caught:
            await get_adapter("kie").query(http, settings_for("kie"), "t1")
    assert caught.value.code == code
    assert caught.value.__cause__ is exc
    assert KEY not in str(caught.value)


NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("-5", 0.0),
        ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),
        ("Thu, 01 Jan 2026 11:00:00 GMT", 0.0),
        ("99999999", 86400.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_parsing(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now_s=NOW.timestamp()) == expected


async def test_retry_after_http_date_on_429() -> None:
    when = "Wed, 21 Oct 2099 07:28:00 GMT"
    answer = httpx.Response(429, json={"msg": "rate"}, headers={"Retry-After": when})
    async with client(Recorder(answer)) as http:
        with pytest.raises(ProviderUnavailable) as caught:
            await get_adapter("foxapi").query(http, settings_for("foxapi"), "t1")
    assert caught.value.retry_after_s == 86400.0  # capped far-future date


async def test_transport_error_quoting_the_key_is_redacted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {KEY}'")

    async with client(handler) as http:
        with pytest.raises(ProviderUnavailable) as caught:
            await get_adapter("foxapi").query(http, settings_for("foxapi"), "t1")
    assert KEY not in str(caught.value)
    assert "***" in caught.value.message


@pytest.mark.parametrize("bad_key", ["sk-1 ", "sk\n1", "sk-\x001"])
async def test_api_key_with_whitespace_or_control_chars_refused(bad_key: str) -> None:
    rec = Recorder()
    async with client(rec) as http:
        with pytest.raises(ProviderRejected, match="TASKHOOK_KIE_API_KEY") as caught:
            await get_adapter("kie").query(http, settings_for("kie", api_key=bad_key), "t1")
    assert bad_key not in str(caught.value)
    assert rec.requests == []
