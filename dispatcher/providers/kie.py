"""kie.ai: `POST /api/v1/jobs/createTask`, `GET /api/v1/jobs/recordInfo`; callbacks supported."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import httpx

from dispatcher.providers.base import ProviderUnavailable, Submitted
from dispatcher.providers.http import request_json
from dispatcher.providers.models import SchemaModels
from dispatcher.providers.rules import Field, Schema, boolean, listed, one_of, string, url
from receiver.provider_state import ProviderState
from receiver.providers.common import as_dict, as_text
from receiver.providers.kie import parse_kie_record
from receiver.settings import ProviderSettings

# Allowed values, as data (a later correction is one line here). Sources: the provider's
# page in shared/providers/ (primary; it wins) and NOTES.md; where a page is silent
# taskhook adds no rule of its own and the provider decides.
# sora-2-characters page: character_file_url is an array of exactly one video URL.
KIE_CHARACTER_FILE_URLS = (1, 1)
# sora-2-characters page: character_prompt and safety_instruction at most 5000 chars.
KIE_TEXT_MAX = 5000  # "Max 5000 characters": no minimum, so "" is the provider's call
# NOTES.md: later generation models take input.character_id_list, at most 5 ids.
KIE_CHARACTER_ID_LIST_MAX = 5
# kie's public sora-2 model pages (not in the primary spec: unconfirmed values).
KIE_PROMPT_MAX = 10000
KIE_ASPECT_RATIOS = frozenset({"portrait", "landscape"})
KIE_N_FRAMES = frozenset({"10", "15"})
KIE_PRO_SIZES = frozenset({"standard", "high"})
KIE_UPLOAD_METHODS = frozenset({"s3", "oss"})  # "Upload destination. Defaults to s3; ... oss"
KIE_IMAGE_URLS = (1, 1)  # image-to-video: "Maximum files: 1" (one first frame)

CREATE_PATH = "/api/v1/jobs/createTask"
QUERY_PATH = "/api/v1/jobs/recordInfo"


def _video_fields(*, image: bool, pro: bool) -> tuple[Field, ...]:
    """kie's sora-2 video models (unconfirmed beyond NOTES.md: see the values above)."""
    fields = [
        Field("prompt", (string(max_len=KIE_PROMPT_MAX),), required=True),
        Field("aspect_ratio", (one_of(KIE_ASPECT_RATIOS),)),
        Field("n_frames", (one_of(KIE_N_FRAMES),)),
        Field("remove_watermark", (boolean,)),
        Field("upload_method", (one_of(KIE_UPLOAD_METHODS),)),
        Field("character_id_list", (listed(string(), max_count=KIE_CHARACTER_ID_LIST_MAX),)),
    ]
    if image:
        count = listed(url, min_count=KIE_IMAGE_URLS[0], max_count=KIE_IMAGE_URLS[1])
        fields.insert(1, Field("image_urls", (count,), required=True))
    if pro:
        fields.append(Field("size", (one_of(KIE_PRO_SIZES),)))
    return tuple(fields)


def _schemas() -> dict[str, Schema]:
    low, high = KIE_CHARACTER_FILE_URLS
    characters = (
        Field("character_file_url", (listed(url, min_count=low, max_count=high),), required=True),
        Field("character_prompt", (string(max_len=KIE_TEXT_MAX, min_len=0),)),
        Field("safety_instruction", (string(max_len=KIE_TEXT_MAX, min_len=0),)),
    )
    schemas = [Schema("sora-2-characters", characters)]
    for prefix, pro in (("sora-2", False), ("sora-2-pro", True)):
        schemas.append(Schema(f"{prefix}-text-to-video", _video_fields(image=False, pro=pro)))
        schemas.append(Schema(f"{prefix}-image-to-video", _video_fields(image=True, pro=pro)))
    return {s.name: s for s in schemas}


class KieAdapter(SchemaModels):
    """kie.ai's jobs API (the `sora-2-characters` model and the sora-2 video models)."""

    name = "kie"

    def __init__(self) -> None:
        super().__init__(_schemas())

    def supports_callback(self, model: str, settings: ProviderSettings) -> bool:
        """kie calls back for every model."""
        return True

    async def submit(
        self,
        client: httpx.AsyncClient,
        settings: ProviderSettings,
        model: str,
        task_input: dict[str, Any],
        callback_url: str | None,
    ) -> Submitted:
        """Create the task; kie answers `{"code": 200, "data": {"taskId"}}`."""
        body: dict[str, Any] = {"model": model, "input": task_input}
        if callback_url is not None:
            body["callBackUrl"] = callback_url
            # progress reports go to the same per-task URL; they never end a task
            body["progressCallBackUrl"] = callback_url
        answer = await request_json(client, settings, "POST", CREATE_PATH, json=body, envelope=True)
        task_id = as_text(as_dict(answer.get("data")).get("taskId"))
        if task_id is None:
            raise ProviderUnavailable(
                self.name,
                "createTask answered code 200 without data.taskId",
                code="malformed_response",
            )
        return Submitted(provider_task_id=task_id)

    async def query(
        self,
        client: httpx.AsyncClient,
        settings: ProviderSettings,
        provider_task_id: str,
        task_input: Mapping[str, Any] | None = None,
    ) -> ProviderState:
        """Read the task with recordInfo; its `data` is the task record."""
        answer = await request_json(
            client,
            settings,
            "GET",
            QUERY_PATH,
            params={"taskId": provider_task_id},
            envelope=True,
        )
        data = answer.get("data")
        if not isinstance(data, dict):
            raise ProviderUnavailable(
                self.name,
                f"recordInfo for {provider_task_id} answered without a data object",
                code="malformed_response",
            )
        state = parse_kie_record(data)
        if not state.provider_task_id:
            state = dataclasses.replace(state, provider_task_id=provider_task_id)
        return state
