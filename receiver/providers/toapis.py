"""toapis generation tasks (`GET /v1/videos/generations/{id}`) in taskhook's words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from receiver.provider_state import ProviderState
from receiver.providers.common import (
    as_dict,
    as_progress,
    as_text,
    error_from,
    result_object,
    unwrap,
)
from receiver.providers.cost import cost_object, number, numeric_units, span_s
from receiver.providers.expiry import expires_at_ms
from receiver.providers.media import split_media

# toapis `status` -> taskhook status. Anything else is read as still running.
STATUSES = {
    "queued": "submitted",
    "submitted": "submitted",
    "pending": "submitted",
    "in_progress": "running",
    "processing": "running",
    "completed": "succeeded",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}


def parse_toapis_task(obj: Mapping[str, Any], *, character: bool = False) -> ProviderState:
    """Normalise one toapis task (`{"id", "status", "progress", "result", "error"}`).

    `character` says whether the task was a character creation, decided by the caller
    from the request it stored (never guessed from the result's keys). A character's
    `result.character_id` is the toapis task id: what later generations pass as
    `character_url`. Videos go to `video_urls`, pictures (profile picture, thumbnail,
    cover) to `image_urls`.
    """
    task = unwrap(obj)
    task_id = as_text(task.get("id")) or as_text(task.get("task_id")) or ""
    status = STATUSES.get(str(task.get("status") or "").strip().lower(), "running")
    progress = 100 if status == "succeeded" else as_progress(task.get("progress"))
    result = _result(task, task_id, character) if status == "succeeded" else None
    error = None
    if status == "failed":
        error = error_from(task.get("error") or task.get("message"), "toapis")
    usage = numeric_units(as_dict(task.get("usage")))
    duration = span_s(task.get("created_at"), task.get("completed_at"))
    cost = cost_object(usage, duration) if status in ("succeeded", "failed") else None
    completed = number(task.get("completed_at"))
    expires = expires_at_ms(
        result,
        reported_s=task.get("expires_at"),
        completed_ms=completed * 1000 if completed is not None else None,
    )
    return ProviderState(task_id, status, progress, result, error, raw=task, cost=cost,
                         expires_at_ms=expires)  # fmt: skip


def _result(task: Mapping[str, Any], task_id: str, character: bool) -> dict[str, Any]:
    found = task.get("result")
    videos, images = split_media(found)
    if not character:
        return result_object(videos, image_urls=images)
    inner = as_dict(found)
    name = as_text(inner.get("name")) or as_text(inner.get("username"))
    # a character has no video: every URL of its result is a picture
    return result_object([], task_id or None, name, image_urls=[*images, *videos])
