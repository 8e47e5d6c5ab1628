"""kie.ai on the receiving side: its task records (recordInfo's `data`, or a callback's
`data`) in taskhook's words, and its callback source (where the task id is, the signature)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from receiver.provider_state import ProviderState
from receiver.providers.common import (
    as_dict,
    as_progress,
    as_text,
    error_object,
    result_object,
    url_list,
)
from receiver.providers.cost import cost_object, number, numeric_units, span_s
from receiver.providers.expiry import expires_at_ms
from receiver.providers.media import split_media
from receiver.providers.source import Source, Verify
from receiver.settings import Settings
from receiver.signatures.kie import verify_kie

# kie `state` -> taskhook status. Anything else is read as still running.
STATES = {
    "waiting": "submitted",
    "queuing": "submitted",
    "generating": "running",
    "success": "succeeded",
    "fail": "failed",
}
OK_CODE = 200
FULL = 100


def kie_callback_task_id(body: Mapping[str, Any]) -> str | None:
    """The task a kie callback names: `data.taskId`, else `data.task_id`, else `taskId`."""
    if not isinstance(body, Mapping):
        return None
    data = body.get("data")
    if isinstance(data, Mapping):
        found = as_text(data.get("taskId")) or as_text(data.get("task_id"))
        if found:
            return found
    return as_text(body.get("taskId"))


def parse_kie_record(data: Mapping[str, Any]) -> ProviderState:
    """Normalise one kie task record (`{"taskId", "state", "resultJson", "failCode", ...}`)."""
    record = as_dict(data)
    task_id = as_text(record.get("taskId")) or as_text(record.get("task_id")) or ""
    status = STATES.get(str(record.get("state") or "").strip().lower(), "running")
    progress = 100 if status == "succeeded" else as_progress(record.get("progress"))
    result = _result(record) if status == "succeeded" else None
    error = None
    if status == "failed":
        error = error_object(record.get("failCode"), record.get("failMsg"), "kie")
    expires = expires_at_ms(result, completed_ms=record.get("completeTime"))
    return ProviderState(task_id, status, progress, result, error, raw=record,
                         cost=_cost(record), expires_at_ms=expires)  # fmt: skip


def parse_kie_callback(body: Mapping[str, Any]) -> ProviderState:
    """Normalise a whole kie callback body `{"code", "msg", "data": {...}}`.

    A `data` without `state` (older callback shapes) takes its outcome from `code`,
    except a progress report (`progressCallBackUrl`: a `progress` below 100), which is
    read as still generating: a progress callback never ends a task.
    """
    top = as_dict(body)
    record = as_dict(top.get("data"))
    record.setdefault("taskId", kie_callback_task_id(top))
    progress = as_progress(record.get("progress"))
    if not record.get("state") and progress is not None and progress < FULL:
        record["state"] = "generating"
    if not record.get("state"):
        ok = top.get("code") in (OK_CODE, str(OK_CODE))
        record["state"] = "success" if ok else "fail"
        if not ok:
            record.setdefault("failCode", top.get("code"))
            record.setdefault("failMsg", top.get("msg") or top.get("message"))
    return parse_kie_record(record)


def _cost(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """Credit fields as reported; `costTime` (s), else completeTime - createTime (ms)."""
    duration = number(record.get("costTime"))
    if duration is None:
        duration = span_s(record.get("createTime"), record.get("completeTime"), scale=1000)
    return cost_object(numeric_units(record, only_credit_keys=True), duration)


def _result(record: Mapping[str, Any]) -> dict[str, Any]:
    """`resultJson` (a JSON string, or already a dict) as the normalised result."""
    parsed = as_dict(record.get("resultJson"))
    info = as_dict(record.get("info"))  # older callback shape: data.info.resultUrls
    urls = url_list(parsed.get("resultUrls")) or url_list(info.get("resultUrls"))
    character_id = as_text(parsed.get("character_id"))
    if character_id is None:
        ids = parsed.get("character_id_list")
        if isinstance(ids, list) and ids:
            character_id = as_text(ids[0])
    name = as_text(parsed.get("character_name")) or as_text(parsed.get("name"))
    videos, images = split_media(urls)
    return result_object(videos, character_id, name, image_urls=images)


def callback_source(settings: Settings) -> Source:
    """kie's callbacks: signed (taskId + timestamp only) when the webhook key is configured.

    The body itself is not signed, so the inbox confirms it with a recordInfo read.
    """
    key = settings.kie_webhook_key
    verify: Verify | None = None
    if key:

        def verify(headers: Mapping[str, str], _raw: bytes, task_id: str) -> None:
            verify_kie(key, task_id, headers, tolerance_s=settings.callback_tolerance_s)

    return Source(
        name="kie",
        task_id_field="data.taskId",
        find_task_id=kie_callback_task_id,
        parse=parse_kie_callback,
        verify=verify,
        signature_on_token_route=key is not None and key != "",
        unverifiable_reason="kie callback without a token while TASKHOOK_KIE_WEBHOOK_KEY is unset",
    )
