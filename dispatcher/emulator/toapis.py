"""toapis: `POST /v1/videos/generations` (character creation from `url`/`from_task` +
`timestamps`, or video generation from `prompt` with an optional `character_url`) and
`GET /v1/videos/generations/{id}`. No callbacks. Errors: `{"error": {"message", "type",
"code"}}` with HTTP 400/401/404.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dispatcher.emulator import fields
from dispatcher.emulator.context import Emulator, emulator, fake_url
from dispatcher.emulator.gate import Rejected, gate, read_json
from dispatcher.emulator.state import EmuTask, FailReason

NAME = "toapis"
MODELS = ("sora-2", "sora-2-pro", "sora-2-vip")
CHARACTER_FIELDS = ("url", "from_task", "timestamps")
MIN_SPAN_S = 1.0
MAX_SPAN_S = 3.0
MAX_PROMPT = 20000
RESULT_TTL_S = 86400
TIMESTAMPS = re.compile(r"[0-9]+,[0-9]+")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
STATUSES = {"queued": "queued", "running": "in_progress",
            "succeeded": "completed", "failed": "failed"}  # fmt: skip
VIDEO_REASONS = (
    FailReason("content_policy_violation", "The prompt was rejected by the content policy."),
    FailReason("generation_failed", "Video generation failed upstream; please retry."),
)
CHARACTER_REASONS = (
    FailReason("character_extraction_failed",
               "No identifiable character with audio was found in the selected time range."),
)  # fmt: skip


class ToapisDialect:
    """OpenAI-style error objects with real HTTP statuses."""

    name = NAME

    def error(self, http_status: int, code: int, message: str) -> Response:
        """`{"error": {...}}` with HTTP `http_status`."""
        kind = "invalid_request_error" if 400 <= code < 500 else "server_error"
        body = {"message": message, "type": kind, "code": str(code)}
        return JSONResponse({"error": body}, status_code=http_status)

    def unauthorized(self) -> Response:
        """HTTP 401."""
        return self.error(401, 401, "Invalid API key: send Authorization: Bearer YOUR_API_KEY")


DIALECT = ToapisDialect()


def routes() -> list[BaseRoute]:
    """toapis' endpoints."""
    return [
        Route("/v1/videos/generations", create, methods=["POST"]),
        Route("/v1/videos/generations/{task_id}", get_task, methods=["GET"]),
    ]


def is_character_request(body: dict[str, Any]) -> bool:
    """Character creation (url/from_task/timestamps) rather than video generation.

    The page: "prompt parameter is not required in this mode", so a prompt may come too.
    """
    return any(body.get(key) is not None for key in CHARACTER_FIELDS)


async def create(request: Request) -> Response:
    """Validate and register a character or video task."""
    early = await gate(request, DIALECT, "create")
    if early is not None:
        return early
    emu = emulator(request)
    try:
        body, kind = validate(await read_json(request), emu)
    except Rejected as exc:
        return DIALECT.error(exc.status, exc.status, exc.message)
    task_id = "task_01" + emu.store.token(24, CROCKFORD)
    reasons = CHARACTER_REASONS if kind == "character" else VIDEO_REASONS
    task = emu.store.create(task_id, provider=NAME, model=body["model"], request=body,
                            reasons=reasons, kind=kind)  # fmt: skip
    emu.stats.task(NAME, task_id, "create")
    return JSONResponse({
        "id": task_id, "object": "generation.task", "model": body["model"],
        "status": "queued", "progress": 0, "created_at": int(task.created_s), "metadata": {},
    })  # fmt: skip


def validate(raw: Any, emu: Emulator) -> tuple[dict[str, Any], str]:
    """Check the body; return it with its kind (`character` or `video`)."""
    body = fields.require_object(raw)
    model = body.get("model")
    if model not in MODELS:
        raise Rejected(f"model {model!r} is not supported; use one of {', '.join(MODELS)}",
                       status=400)  # fmt: skip
    if is_character_request(body):
        _character(body, emu)
        return body, "character"
    fields.text(body, "prompt", max_len=MAX_PROMPT, required=True)
    _character_url(body, emu)
    return body, "video"


def _character(body: dict[str, Any], emu: Emulator) -> None:
    given = [key for key in ("url", "from_task") if body.get(key) not in (None, "")]
    if len(given) != 1:
        raise Rejected("give exactly one of url or from_task", status=400)
    if given[0] == "url":
        fields.url(body, "url")
    else:
        source = body["from_task"]
        task = emu.store.get(NAME, source) if isinstance(source, str) else None
        if task is None or task.kind != "video":
            raise Rejected(f"from_task {source!r} is not a video task of this account",
                           status=400)  # fmt: skip
    prompt = body.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise Rejected("prompt must be a string", status=400)
    _timestamps(body.get("timestamps"))


def _timestamps(value: Any) -> None:
    problem = ('timestamps is required as "start_second,end_second" (whole seconds, e.g. '
               '"1,3"), end 1 to 3 s after start')  # fmt: skip
    if not isinstance(value, str) or not TIMESTAMPS.fullmatch(value):
        raise Rejected(problem, status=400)
    start, end = (int(part) for part in value.split(","))
    if not MIN_SPAN_S <= end - start <= MAX_SPAN_S:
        raise Rejected(f"{problem} (got {value!r})", status=400)


def _character_url(body: dict[str, Any], emu: Emulator) -> None:
    ref = body.get("character_url")
    if ref is None:
        return
    if not isinstance(ref, str) or not ref:
        raise Rejected("character_url must be a character task id", status=400)
    if not ref.startswith("task_"):
        return
    task = emu.store.get(NAME, ref)
    done = task is not None and task.phase(emu.store.now()) == "succeeded"
    if task is None or task.kind != "character" or not done:
        raise Rejected(f"character_url {ref!r} is not a completed character task", status=400)


async def get_task(request: Request) -> Response:
    """The task, or 404."""
    task_id = request.path_params["task_id"]
    early = await gate(request, DIALECT, "query", task_id)
    if early is not None:
        return early
    emu = emulator(request)
    task = emu.store.get(NAME, task_id)
    if task is None:
        return DIALECT.error(404, 404, f"task {task_id} not found")
    return JSONResponse(task_object(task, emu.store.now()))


def task_object(task: EmuTask, now: float) -> dict[str, Any]:
    """The query answer at loop time `now`."""
    phase = task.phase(now)
    out: dict[str, Any] = {
        "id": task.id, "object": "generation.task", "model": task.model,
        "status": STATUSES[phase], "progress": task.progress(now),
        "created_at": int(task.created_s), "metadata": {},
    }  # fmt: skip
    if phase == "failed":
        out["completed_at"] = int(task.completed_s)
        out["error"] = {"code": task.reason.code, "message": task.reason.message}
    elif phase == "succeeded":
        out["completed_at"] = int(task.completed_s)
        out["expires_at"] = int(task.completed_s) + RESULT_TTL_S
        out["result"] = _result(task)
    return out


def _result(task: EmuTask) -> dict[str, Any]:
    """The page: "character ID, name, profile picture, etc." (its own id differs from the
    task id, which is what later generations pass as `character_url`)."""
    ref = hashlib.sha256(task.id.encode()).hexdigest()[:12]
    if task.kind == "character":
        return {"type": "character", "character_id": f"ch_{ref}", "name": f"emu.char{ref[:6]}",
                "username": f"emu.char{ref}",
                "profile_picture_url": fake_url(NAME, task.id, "profile.webp")}  # fmt: skip
    return {"type": "video", "url": fake_url(NAME, task.id, "video.mp4"),
            "thumbnail_url": fake_url(NAME, task.id, "thumbnail.jpg")}  # fmt: skip
