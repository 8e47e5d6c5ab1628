"""toapis generation tasks (`GET /v1/videos/generations/{id}`) in taskhook's words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from receiver.provider_results.common import (
    as_dict,
    as_progress,
    as_text,
    error_from,
    result_object,
    unwrap,
    urls_anywhere,
)
from receiver.provider_state import ProviderState

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
# Keys that mark a `result` as a created character (its inner shape is unconfirmed).
CHARACTER_KEYS = ("character_id", "character", "username", "profile_picture", "cameo_id")


def parse_toapis_task(obj: Mapping[str, Any], *, character: bool | None = None) -> ProviderState:
    """Normalise one toapis task (`{"id", "status", "progress", "result", "error"}`).

    `character`: True when the task created a character (then `result.character_id` is
    the toapis task id: what later generations pass as `character_url`); None infers it
    from the result's keys.
    """
    task = unwrap(obj)
    task_id = as_text(task.get("id")) or as_text(task.get("task_id")) or ""
    status = STATUSES.get(str(task.get("status") or "").strip().lower(), "running")
    progress = 100 if status == "succeeded" else as_progress(task.get("progress"))
    result = _result(task, task_id, character) if status == "succeeded" else None
    error = None
    if status == "failed":
        error = error_from(task.get("error") or task.get("message"), "toapis")
    return ProviderState(task_id, status, progress, result, error, raw=task)


def _result(task: Mapping[str, Any], task_id: str, character: bool | None) -> dict[str, Any]:
    found = task.get("result")
    inner = as_dict(found)
    if character is None:
        character = any(key in inner for key in CHARACTER_KEYS)
    name = as_text(inner.get("name")) or as_text(inner.get("username"))
    if not character:
        return result_object(urls_anywhere(found))
    return result_object(urls_anywhere(found), task_id or None, name)
