"""kie.ai: `POST /api/v1/jobs/createTask` (sora-2-characters and the Sora 2 video models of
`kie_video`) and `GET /api/v1/jobs/recordInfo`.

Errors are a `code` inside the JSON envelope with HTTP 200 (`{"code": 422, "msg": ...}`).
Callbacks go to `callBackUrl` when the task ends, signed when a webhook key is configured.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import string
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dispatcher.emulator import fields, kie_upload, kie_video
from dispatcher.emulator.context import Emulator, emulator
from dispatcher.emulator.gate import Rejected, gate, read_json
from dispatcher.emulator.state import EmuTask, FailReason

NAME = "kie"
MODEL = "sora-2-characters"
MAX_TEXT = 5000
WAITING_FRACTION = 0.1
REASONS = (
    FailReason("500", "Internal Error, Please try again later."),
    FailReason("400", "Your content was flagged by the safety system. Please modify and retry."),
    FailReason("451", "Failed to fetch the character video: the file could not be downloaded."),
    FailReason("501", "Character creation failed: no clear character found in the video."),
)


class KieDialect:
    """kie words every error as an in-body `code` and `msg`."""

    name = NAME

    def error(self, http_status: int, code: int, message: str) -> Response:
        """`{"code": code, "msg": message}` with HTTP `http_status`."""
        return JSONResponse({"code": code, "msg": message}, status_code=http_status)

    def unauthorized(self) -> Response:
        """In-body 401 with HTTP 200."""
        return self.error(200, 401, "You do not have access permissions")


DIALECT = KieDialect()


def routes() -> list[BaseRoute]:
    """kie's endpoints."""
    return [
        Route("/api/v1/jobs/createTask", create_task, methods=["POST"]),
        Route("/api/v1/jobs/recordInfo", record_info, methods=["GET"]),
        Route("/api/v1/chat/credit", credit, methods=["GET"]),
        Route("/api/file-stream-upload", file_stream_upload, methods=["POST"]),
    ]


async def file_stream_upload(request: Request) -> Response:
    """kie's File Stream Upload (see `kie_upload`); the file itself is dropped."""
    early = await gate(request, DIALECT, "upload")
    if early is not None:
        return early
    body = await request.body()
    if len(body) > kie_upload.MAX_UPLOAD_BYTES:
        return DIALECT.error(200, 413, "file too large")
    form = kie_upload.parse_form(request.headers.get("content-type", ""), body)
    answer = kie_upload.upload_answer(form, emulator(request).store.token(8))
    return JSONResponse(answer)


async def credit(request: Request) -> Response:
    """kie's Common API "Get Remaining Credits": `{"code": 200, "msg", "data": <credits>}`."""
    early = await gate(request, DIALECT, "credit")
    if early is not None:
        return early
    emu = emulator(request)
    now = emu.store.now()
    used = sum(task_credits(t) for t in emu.store.all(NAME) if t.phase(now) == "succeeded")
    remaining = emu.config.kie_credits - used
    data = int(remaining) if remaining == int(remaining) else round(remaining, 2)
    return JSONResponse({"code": 200, "msg": "success", "data": data})


def task_credits(task: EmuTask) -> int:
    """Credits a task consumes (emulator prices: 1 per character, 20 or 30 per video)."""
    if task.model == MODEL:
        return 1
    frames = (task.request.get("input") or {}).get("n_frames")
    return 30 if frames == "15" else 20


async def create_task(request: Request) -> Response:
    """Validate and register a task; schedule its callback."""
    early = await gate(request, DIALECT, "create")
    if early is not None:
        return early
    emu = emulator(request)
    try:
        body = validate(await read_json(request), characters(emu))
    except Rejected as exc:
        return DIALECT.error(200, exc.status, exc.message)
    task_id = "task_" + emu.store.token(32, string.hexdigits[:16])
    model = body["model"]
    reasons = REASONS if model == MODEL else kie_video.REASONS
    task = emu.store.create(
        task_id, provider=NAME, model=model, request=body, reasons=reasons,
        callback_url=body.get("callBackUrl"),
    )  # fmt: skip
    emu.stats.task(NAME, task_id, "create")
    _schedule_callbacks(emu, task, body.get("progressCallBackUrl"))
    return JSONResponse({"code": 200, "msg": "success", "data": {"taskId": task_id}})


def _schedule_callbacks(emu: Emulator, task: EmuTask, progress_url: Any) -> None:
    """The final callback (to `callBackUrl`) and one progress report (`progressCallBackUrl`)."""
    key, quirks = emu.config.kie_webhook_key, emu.config.quirks
    emu.sender.schedule(task, functools.partial(callback_payload, key=key, quirks=quirks))
    if isinstance(progress_url, str) and progress_url:
        progress = functools.partial(progress_payload, key=key)
        emu.sender.schedule_progress(task, progress_url, progress)


def validate(raw: Any, known_characters: set[str] | None = None) -> dict[str, Any]:
    """Check a createTask body as kie documents it (per model)."""
    body = fields.require_object(raw)
    model = body.get("model")
    if model != MODEL and model not in kie_video.MODELS:
        models = ", ".join((MODEL, *kie_video.MODELS))
        raise Rejected(f"model {model!r} is not supported: use one of {models}")
    fields.url(body, "callBackUrl", required=False)
    fields.url(body, "progressCallBackUrl", required=False)
    params = body.get("input")
    if not isinstance(params, dict):
        raise Rejected("input is required and must be an object")
    if model == MODEL:
        _character_input(params)
    else:
        kie_video.validate_input(str(model), params, known_characters or set())
    return body


def _character_input(params: dict[str, Any]) -> None:
    files = params.get("character_file_url")
    if not isinstance(files, list) or len(files) != 1 or not fields.is_url(files[0]):
        raise Rejected("input.character_file_url must be an array with exactly one video URL")
    for key in ("character_prompt", "safety_instruction"):
        _max_text(params, key)


def _max_text(params: dict[str, Any], key: str) -> None:
    """The page's only rule: "Max 5000 characters" (an empty string is allowed)."""
    value = params.get(key)
    if value is None:
        return
    if not isinstance(value, str):
        raise Rejected(f"input.{key} must be a string", param=f"input.{key}")
    if len(value) > MAX_TEXT:
        raise Rejected(f"input.{key} is {len(value)} characters; the limit is {MAX_TEXT}",
                       param=f"input.{key}")  # fmt: skip


def characters(emu: Emulator) -> set[str]:
    """The character ids this emulator's completed `sora-2-characters` tasks yielded."""
    now = emu.store.now()
    return {character_id(task) for task in emu.store.all(NAME)
            if task.model == MODEL and task.phase(now) == "succeeded"}  # fmt: skip


async def record_info(request: Request) -> Response:
    """The task's record, or `{"code": 422, "msg": "recordInfo is null"}`."""
    task_id = request.query_params.get("taskId", "").strip()
    early = await gate(request, DIALECT, "query", task_id or None)
    if early is not None:
        return early
    if not task_id:
        return DIALECT.error(200, 422, "taskId is required")
    emu = emulator(request)
    task = emu.store.get(NAME, task_id)
    if task is None:
        return DIALECT.error(200, 422, "recordInfo is null")
    msg_key = "message" if emu.config.quirks and task.quirky else "msg"
    data = record(task, emu.store.now(), quirks=emu.config.quirks)
    return JSONResponse({"code": 200, msg_key: "success", "data": data})


def record(task: EmuTask, now: float, *, quirks: bool = False) -> dict[str, Any]:
    """recordInfo's `data` at loop time `now`."""
    phase = task.phase(now)
    final = phase in ("succeeded", "failed")
    failed = phase == "failed"
    return {
        "taskId": task.id,
        "model": task.model,
        "state": _state(task, now),
        "param": json.dumps(task.request, ensure_ascii=False),
        "resultJson": _result_json(task, quirks) if phase == "succeeded" else "",
        "failCode": task.reason.code if failed else "",
        "failMsg": task.reason.message if failed else "",
        "completeTime": task.completed_ms if final else None,
        "createTime": task.created_ms,
        "updateTime": task.completed_ms if final else int(time.time() * 1000),
    }


def _state(task: EmuTask, now: float) -> str:
    phase = task.phase(now)
    if phase == "succeeded":
        return "success"
    if phase == "failed":
        return "fail"
    if phase == "running":
        return "generating"
    return "waiting" if task.fraction(now) < WAITING_FRACTION else "queuing"


def character_id(task: EmuTask) -> str:
    """The character id a successful task yields (stable per task)."""
    return "char_" + hashlib.sha256(task.id.encode()).hexdigest()[:24]


def _result_json(task: EmuTask, quirks: bool) -> str:
    if task.model != MODEL:
        return kie_video.result_json(task)
    if quirks and task.quirky:
        return json.dumps({"character_id_list": [character_id(task)]})
    return json.dumps({"character_id": character_id(task)})


def callback_payload(
    task: EmuTask, *, key: str | None, quirks: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """The callback body (recordInfo's data plus costTime) and its signature headers.

    With quirks, every other task names itself as `data.task_id` instead of `data.taskId`.
    """
    quirky = quirks and task.quirky
    data = record(task, task.due)
    succeeded = data["state"] == "success"
    data["costTime"] = round(task.completed_s - task.created_s)
    # NOTES.md: kie callbacks carry "credit fields" (names unconfirmed; taskhook reads any
    # numeric field whose name contains "credit")
    data["consumeCredits"] = task_credits(task) if succeeded else 0
    if quirky:
        # kie's webhook verification guide reads `data.task_id`: send that shape too
        data["task_id"] = data.pop("taskId")
    body = {
        "code": 200 if succeeded else 501,
        "msg": "success" if succeeded else task.reason.message,
        "data": data,
    }
    return body, signature_headers(key, task.id) if key else {}


def progress_payload(task: EmuTask, *, key: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """A progress report: `{"code": 200, "msg", "data": {"taskId", "state", "progress"}}`
    (the shape is unconfirmed: kie documents `progressCallBackUrl` but not its body)."""
    now = asyncio.get_running_loop().time()
    data = {"taskId": task.id, "model": task.model, "state": _state(task, now),
            "progress": task.progress(now)}  # fmt: skip
    body = {"code": 200, "msg": "success", "data": data}
    return body, signature_headers(key, task.id) if key else {}


def signature_headers(key: str, task_id: str, timestamp: int | None = None) -> dict[str, str]:
    """`X-Webhook-Timestamp` and `X-Webhook-Signature` = b64(HMAC-SHA256(key, id.ts))."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(key.encode(), f"{task_id}.{ts}".encode(), hashlib.sha256).digest()
    return {"X-Webhook-Timestamp": ts, "X-Webhook-Signature": base64.b64encode(digest).decode()}
