"""foxapi: `POST /v1/videos/generations` (sora-2, sora-2-pro, sora-2-character,
creatify-aurora) and `GET /v1/tasks/{id}`.

Errors are HTTP 400/401/404/422 with `{"error": {"message", "type", "code", "param"}}`.
An optional `callback_url` receives the final task object, unsigned.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dispatcher.emulator import fields
from dispatcher.emulator.context import emulator, fake_url
from dispatcher.emulator.gate import Rejected, gate, read_json
from dispatcher.emulator.state import EmuTask, FailReason

NAME = "foxapi"
SORA_MODELS = ("sora-2", "sora-2-pro")
CHARACTER_MODEL = "sora-2-character"
AURORA_MODEL = "creatify-aurora"
MODELS = (*SORA_MODELS, CHARACTER_MODEL, AURORA_MODEL)
# The sora-2 page: duration "可选值: 4 8 12" (it wins over another version listing 16, 20).
SORA_DURATIONS = (4, 8, 12)
SORA_DEFAULT_DURATION = 4
SORA_ASPECT_RATIOS = ("16:9", "9:16")
SORA_RESOLUTIONS = ("720p", "1080p")
GENERATION_TYPES = ("text-to-video", "image-to-video")
MAX_PROMPT = 20000
MAX_CHARACTER_IDS = 2
MAX_NAME = 80
MAX_CALLBACK_URL = 2048
AURORA_RESOLUTIONS = ("480p", "720p")
AURORA_DURATION_S = 12
STATUSES = {"queued": "pending", "running": "processing",
            "succeeded": "completed", "failed": "failed"}  # fmt: skip
REASONS = (
    FailReason("content_policy_violation",
               "The request was rejected by the upstream content moderation system."),
    FailReason("generation_failed", "Upstream generation failed; please retry the task."),
    FailReason("upstream_timeout", "The upstream provider timed out while generating."),
)  # fmt: skip


class FoxDialect:
    """OpenAI-style error objects with real HTTP statuses."""

    name = NAME

    def error(
        self, http_status: int, code: int, message: str, param: str | None = None
    ) -> Response:
        """`{"error": {...}}` with HTTP `http_status`."""
        kind = "invalid_request_error" if 400 <= code < 500 else "api_error"
        body = {"message": message, "type": kind, "code": str(code), "param": param}
        return JSONResponse({"error": body}, status_code=http_status)

    def unauthorized(self) -> Response:
        """HTTP 401."""
        return self.error(401, 401, "Invalid or missing API key: send Authorization: Bearer KEY")


DIALECT = FoxDialect()


def routes() -> list[BaseRoute]:
    """foxapi's endpoints."""
    return [
        Route("/v1/videos/generations", create, methods=["POST"]),
        Route("/v1/tasks/{task_id}", get_task, methods=["GET"]),
    ]


async def create(request: Request) -> Response:
    """Validate and register a generation task."""
    early = await gate(request, DIALECT, "create")
    if early is not None:
        return early
    emu = emulator(request)
    try:
        body = validate(await read_json(request))
    except Rejected as exc:
        return DIALECT.error(exc.status, exc.status, exc.message, exc.param)
    created = int(time.time())
    task_id = f"task-unified-{created}-{emu.store.token(8)}"
    task = emu.store.create(
        task_id, provider=NAME, model=body["model"], request=body, reasons=REASONS,
        callback_url=body.get("callback_url"),
    )  # fmt: skip
    emu.stats.task(NAME, task_id, "create")
    quirks = emu.config.quirks
    emu.sender.schedule(task, lambda t: (task_object(t, t.due, quirks=quirks), {}))
    estimated = emu.config.estimated_s
    return JSONResponse({
        "created": created, "id": task_id, "model": body["model"],
        "object": "video.generation.task", "progress": 0, "status": "pending",
        "task_info": {"can_cancel": True,
                      "estimated_time": int(estimated) if estimated == int(estimated)
                      else round(estimated, 3)},
        "type": "video",
    })  # fmt: skip


def validate(raw: Any) -> dict[str, Any]:
    """Check a generation body as foxapi documents it per model."""
    body = fields.require_object(raw)
    model = body.get("model")
    check = VALIDATORS.get(model) if isinstance(model, str) else None
    if check is None:
        raise Rejected(
            f"model {model!r} is not supported; use one of {', '.join(MODELS)}",
            status=400, param="model",
        )  # fmt: skip
    check(body)
    callback = fields.url(body, "callback_url", required=False)
    if callback is not None and len(callback) > MAX_CALLBACK_URL:
        raise Rejected(f"callback_url is longer than {MAX_CALLBACK_URL} characters")
    return body


def _sora(body: dict[str, Any]) -> None:
    fields.text(body, "prompt", max_len=MAX_PROMPT, required=True)
    mode = fields.choice(body, "generation_type", GENERATION_TYPES) or "text-to-video"
    if mode == "image-to-video":
        if body.get("image_urls") is None:
            raise Rejected("image-to-video needs image_urls with 1 image", param="image_urls")
        fields.url_list(body, "image_urls", exactly=1)
    else:
        fields.url_list(body, "image_urls", most=1)
    fields.choice(body, "aspect_ratio", SORA_ASPECT_RATIOS)
    fields.choice(body, "duration", SORA_DURATIONS)
    fields.choice(body, "resolution", SORA_RESOLUTIONS)
    fields.boolean(body, "delete_video")
    ids = body.get("character_ids")
    if ids is not None and not (
        isinstance(ids, list)
        and len(ids) <= MAX_CHARACTER_IDS
        and all(isinstance(i, str) and i for i in ids)
    ):
        raise Rejected(f"character_ids must be an array of at most {MAX_CHARACTER_IDS} ids",
                       param="character_ids")  # fmt: skip


def _character(body: dict[str, Any]) -> None:
    fields.url(body, "video_url")
    fields.text(body, "name", max_len=MAX_NAME, required=True)


def _aurora(body: dict[str, Any]) -> None:
    fields.url(body, "image_url")
    fields.url(body, "audio_url")
    # the creatify-aurora page gives its prompt no length limit
    if body.get("prompt") is not None and not isinstance(body["prompt"], str):
        raise Rejected("prompt must be a string", param="prompt")
    fields.number(body, "guidance_scale", 0, 5)
    fields.number(body, "audio_guidance_scale", 0, 5)
    fields.choice(body, "resolution", AURORA_RESOLUTIONS)


VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {
    "sora-2": _sora, "sora-2-pro": _sora, CHARACTER_MODEL: _character, AURORA_MODEL: _aurora,
}  # fmt: skip


async def get_task(request: Request) -> Response:
    """The task object, or 404."""
    task_id = request.path_params["task_id"]
    early = await gate(request, DIALECT, "query", task_id)
    if early is not None:
        return early
    emu = emulator(request)
    task = emu.store.get(NAME, task_id)
    if task is None:
        return DIALECT.error(404, 404, f"task {task_id} not found", "task_id")
    return JSONResponse(task_object(task, emu.store.now(), quirks=emu.config.quirks))


def task_object(task: EmuTask, now: float, *, quirks: bool = False) -> dict[str, Any]:
    """`GET /v1/tasks/{id}` at loop time `now` (also the callback body)."""
    phase = task.phase(now)
    out: dict[str, Any] = {
        "id": task.id, "object": "video.generation.task", "type": "video",
        "model": task.model, "status": STATUSES[phase], "progress": task.progress(now),
        "created": int(task.created_s), "results": None, "error": None, "usage": None,
    }  # fmt: skip
    if phase == "failed":
        out["error"] = {"code": task.reason.code, "message": task.reason.message}
    if phase != "succeeded":
        return out
    out["usage"] = {"credits": 0 if task.model == CHARACTER_MODEL else 1}
    if task.model == CHARACTER_MODEL:
        out["results"] = [{"character_id": character_id(task), "name": task.request["name"]}]
    elif quirks and task.quirky:
        del out["results"]
        out["output"] = _output(task)
    else:
        out["results"] = [{"url": fake_url(NAME, task.id, "video.mp4")}]
    return out


def character_id(task: EmuTask) -> str:
    """The character id a sora-2-character task yields (stable per task)."""
    return "char_" + hashlib.sha256(task.id.encode()).hexdigest()[:20]


def _output(task: EmuTask) -> dict[str, Any]:
    link = fake_url(NAME, task.id, "video.mp4")
    width, height = _size(task.request)
    duration = (AURORA_DURATION_S if task.model == AURORA_MODEL
                else task.request.get("duration") or SORA_DEFAULT_DURATION)  # fmt: skip
    return {"url": link, "urls": [link], "duration": duration, "width": width, "height": height}


def _size(request: dict[str, Any]) -> tuple[int, int]:
    resolution = request.get("resolution") or "720p"
    long, short = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}[resolution]
    return (short, long) if request.get("aspect_ratio") == "9:16" else (long, short)
