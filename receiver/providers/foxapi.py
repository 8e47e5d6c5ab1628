"""foxapi task objects (`GET /v1/tasks/{id}` and create answers) in taskhook's words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from receiver.provider_state import ProviderState
from receiver.providers.common import (
    as_dict,
    as_progress,
    as_text,
    error_from,
    is_url,
    result_object,
    unwrap,
    url_list,
)
from receiver.providers.cost import cost_object, numeric_units
from receiver.providers.expiry import expires_at_ms
from receiver.providers.media import split_media
from receiver.providers.source import Source
from receiver.settings import Settings

# foxapi `status` -> taskhook status. Anything else is read as still running.
STATUSES = {
    "pending": "submitted",
    "queued": "submitted",
    "processing": "running",
    "in_progress": "running",
    "completed": "succeeded",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}


def parse_foxapi_task(obj: Mapping[str, Any]) -> ProviderState:
    """Normalise one foxapi task (`{"id", "status", "progress", "results"|"output", "error"}`)."""
    task = unwrap(obj)
    task_id = as_text(task.get("id")) or as_text(task.get("task_id")) or ""
    status = STATUSES.get(str(task.get("status") or "").strip().lower(), "running")
    progress = 100 if status == "succeeded" else as_progress(task.get("progress"))
    result = _result(task) if status == "succeeded" else None
    error = None
    if status == "failed":
        error = error_from(task.get("error") or task.get("message"), "foxapi")
    usage = numeric_units(as_dict(task.get("usage")))
    return ProviderState(task_id, status, progress, result, error, raw=task,
                         cost=cost_object(usage, None),
                         expires_at_ms=expires_at_ms(result))  # fmt: skip


def _result(task: Mapping[str, Any]) -> dict[str, Any]:
    """Both documented shapes: `results[i].url` / `{character_id, name}`, and `output`."""
    results = task.get("results")
    items = [as_dict(r) for r in results] if isinstance(results, list) else []
    urls = [r["url"] for r in items if is_url(r.get("url"))]
    urls += [u for r in items for u in url_list(r.get("urls"))]
    output = as_dict(task.get("output"))
    urls += url_list(output.get("url")) + url_list(output.get("urls"))
    first = items[0] if items else {}
    character_id = as_text(first.get("character_id"))
    name = as_text(first.get("name")) or as_text(first.get("character_name"))
    videos, images = split_media(urls)
    return result_object(videos, character_id, name if character_id else None, images)


def _foxapi_task_id(body: Mapping[str, Any]) -> str | None:
    return parse_foxapi_task(body).provider_task_id or None


def callback_source(settings: Settings) -> Source:
    """foxapi's callbacks: unsigned, so accepted only on the per-task token route."""
    return Source(
        name="foxapi",
        task_id_field="id",
        find_task_id=_foxapi_task_id,
        parse=parse_foxapi_task,
        unverifiable_reason="foxapi callbacks are unsigned: only the per-task URL accepts them",
    )
