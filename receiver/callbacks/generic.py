"""The generic callback body accepted from Standard Webhooks sources.

A source configured as `TASKHOOK_SW_<SOURCE>_SECRET` (settings.standard_webhook_sources)
POSTs to `/callbacks/<source>` with Standard Webhooks headers and this JSON body:

    {
      "type": "task.succeeded",          optional, ignored
      "data": {
        "task_id": "abc123",             required: the source's id for the task (or "id")
        "status": "succeeded",           required: submitted, running, succeeded, failed,
                                         cancelled or expired
        "progress": 40,                  optional, 0-100
        "model": "sora-2",               optional: recorded when the task is new here
        "result": {"video_urls": [...], "image_urls": [...], "character_id": ...,
                   "character_name": ...},
        "error": {"code": "...", "message": "..."}
      }
    }

The fields may also sit at the top level when there is no `data` object. This is the
shape of taskhook's own event objects, so one taskhook can subscribe another's webhook
endpoint. The signature covers the whole body, so the body is trusted as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from receiver.errors import BadRequest
from receiver.provider_state import ProviderState
from receiver.providers.common import as_dict, as_progress, as_text, result_object, url_list
from receiver.statuses import TASK_STATUSES as STATUSES
from receiver.statuses import TERMINAL

MAX_MESSAGE_CHARS = 500


def _payload(body: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    data = body.get("data")
    if isinstance(data, Mapping):
        return dict(data), "data."
    return dict(body), ""


def generic_task_id(body: Mapping[str, Any]) -> str | None:
    """The source's task id: `data.task_id`, `data.id`, or top-level `task_id`."""
    payload, _ = _payload(body)
    return as_text(payload.get("task_id")) or as_text(payload.get("id"))


def parse_generic(body: Mapping[str, Any]) -> ProviderState:
    """The body as a ProviderState; BadRequest when `status` is missing or unknown."""
    payload, prefix = _payload(body)
    status = as_text(payload.get("status"))
    if status is None:
        raise BadRequest(f"the body has no {prefix}status (one of {', '.join(STATUSES)})")
    if status not in STATUSES:
        raise BadRequest(f"{prefix}status must be one of {', '.join(STATUSES)}")
    result = _result(payload.get("result")) if status == "succeeded" else None
    error = _error(payload.get("error")) if status in TERMINAL and status != "succeeded" else None
    progress = 100 if status == "succeeded" else as_progress(payload.get("progress"))
    task_id = generic_task_id(body) or ""
    return ProviderState(task_id, status, progress, result, error, raw=payload)


def _result(value: Any) -> dict[str, Any]:
    found = as_dict(value)
    return result_object(
        url_list(found.get("video_urls")),
        as_text(found.get("character_id")),
        as_text(found.get("character_name")),
        url_list(found.get("image_urls")),
    )


def _error(value: Any) -> dict[str, Any]:
    found = as_dict(value)
    message = as_text(found.get("message")) or as_text(value) or "the source reported a failure"
    return {"code": as_text(found.get("code")) or "failed", "message": message[:MAX_MESSAGE_CHARS]}
