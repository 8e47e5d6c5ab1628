"""foxapi: `POST /v1/videos/generations`, `GET /v1/tasks/{id}`; poll-first."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from dispatcher.providers.base import ProviderUnavailable, Submitted
from dispatcher.providers.http import request_json
from dispatcher.providers.models import SchemaModels
from dispatcher.providers.rules import (
    Field,
    Schema,
    boolean,
    invalid,
    listed,
    number_range,
    one_of,
    string,
    url,
)
from receiver.provider_state import ProviderState
from receiver.providers.common import as_dict, as_text
from receiver.providers.foxapi import parse_foxapi_task
from receiver.settings import ProviderSettings

# Allowed values, as data (a later correction is one line here). Sources: the provider's
# page in shared/providers/ (primary; it wins) and NOTES.md; where a page is silent
# taskhook adds no rule of its own and the provider decides.
# sora-2 page: "可选值: 4 8 12" (the page wins over another version listing 16 and 20).
FOXAPI_DURATIONS_S = frozenset({4, 8, 12})
# sora-2 page: "Maximum string length: 20000" (sora-2 and sora-2-pro only; the
# creatify-aurora page states no limit for its prompt).
FOXAPI_PROMPT_MAX = 20000
FOXAPI_GENERATION_TYPES = frozenset({"text-to-video", "image-to-video"})
FOXAPI_IMAGE_TO_VIDEO_IMAGES = (1, 1)  # image-to-video requires exactly one image_urls
FOXAPI_ASPECT_RATIOS = frozenset({"16:9", "9:16"})
FOXAPI_SORA_RESOLUTIONS = frozenset({"720p", "1080p"})
FOXAPI_CHARACTER_IDS_MAX = 2
FOXAPI_CHARACTER_NAME_LEN = (1, 80)  # sora-2-character `name`
FOXAPI_CREATIFY_RESOLUTIONS = frozenset({"480p", "720p"})
FOXAPI_GUIDANCE_RANGE = (0.0, 5.0)  # creatify guidance_scale and audio_guidance_scale

CREATE_PATH = "/v1/videos/generations"
QUERY_PATH = "/v1/tasks/{id}"
IMAGE_TO_VIDEO = "image-to-video"


def image_urls_match_type(task_input: Mapping[str, Any]) -> None:
    """image-to-video needs exactly one image_urls; text-to-video takes none."""
    kind = task_input.get("generation_type") or "text-to-video"
    images = task_input.get("image_urls")
    if kind == IMAGE_TO_VIDEO:
        low, high = FOXAPI_IMAGE_TO_VIDEO_IMAGES
        if not isinstance(images, list) or not low <= len(images) <= high:
            raise invalid(
                "image_urls",
                "count",
                images,
                f"generation_type image-to-video needs exactly {low} image URL in image_urls",
            )
    elif images:
        raise invalid(
            "image_urls",
            "requires",
            images,
            "image_urls is used only with generation_type 'image-to-video': "
            "set it, or drop image_urls",
        )


def _sora_schema(model: str) -> Schema:
    fields = (
        Field("prompt", (string(max_len=FOXAPI_PROMPT_MAX),), required=True),
        Field("generation_type", (one_of(FOXAPI_GENERATION_TYPES),)),
        Field("image_urls", (listed(url),)),
        Field("aspect_ratio", (one_of(FOXAPI_ASPECT_RATIOS),)),
        Field("duration", (one_of(FOXAPI_DURATIONS_S),)),
        Field("resolution", (one_of(FOXAPI_SORA_RESOLUTIONS),)),
        Field("character_ids", (listed(string(), max_count=FOXAPI_CHARACTER_IDS_MAX),)),
        Field("delete_video", (boolean,)),
    )
    return Schema(model, fields, (image_urls_match_type,))


def _schemas() -> dict[str, Schema]:
    low, high = FOXAPI_CHARACTER_NAME_LEN
    guidance = number_range(*FOXAPI_GUIDANCE_RANGE)
    character = (
        Field("video_url", (url,), required=True),
        Field("name", (string(min_len=low, max_len=high),), required=True),
    )
    creatify = (
        Field("image_url", (url,), required=True),
        Field("audio_url", (url,), required=True),
        Field("prompt", (string(min_len=0),)),
        Field("guidance_scale", (guidance,)),
        Field("audio_guidance_scale", (guidance,)),
        Field("resolution", (one_of(FOXAPI_CREATIFY_RESOLUTIONS),)),
    )
    schemas = [_sora_schema("sora-2"), _sora_schema("sora-2-pro")]
    schemas += [Schema("sora-2-character", character), Schema("creatify-aurora", creatify)]
    return {s.name: s for s in schemas}


def _estimated_time_s(answer: Mapping[str, Any]) -> float | None:
    raw = as_dict(answer.get("task_info")).get("estimated_time")
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        return None
    return float(raw)


class FoxapiAdapter(SchemaModels):
    """foxapi's unified video API (sora-2, sora-2-pro, sora-2-character, creatify-aurora)."""

    name = "foxapi"

    def __init__(self) -> None:
        super().__init__(_schemas())

    def supports_callback(self, model: str, settings: ProviderSettings) -> bool:
        """Only models the operator listed in TASKHOOK_FOXAPI_CALLBACK_MODELS."""
        return model in settings.callback_models

    async def submit(
        self,
        client: httpx.AsyncClient,
        settings: ProviderSettings,
        model: str,
        task_input: dict[str, Any],
        callback_url: str | None,
    ) -> Submitted:
        """Create the task (flat body: model + fields)."""
        body: dict[str, Any] = {"model": model, **task_input}
        if callback_url is not None and self.supports_callback(model, settings):
            body["callback_url"] = callback_url
        answer = await request_json(client, settings, "POST", CREATE_PATH, json=body)
        task_id = as_text(answer.get("id"))
        if task_id is None:
            raise ProviderUnavailable(
                self.name, "create answered without a task id", code="malformed_response"
            )
        state = parse_foxapi_task(answer) if "status" in answer else None
        return Submitted(task_id, _estimated_time_s(answer), state)

    async def query(
        self,
        client: httpx.AsyncClient,
        settings: ProviderSettings,
        provider_task_id: str,
        task_input: Mapping[str, Any] | None = None,
    ) -> ProviderState:
        """Read the task with `GET /v1/tasks/{id}`."""
        path = QUERY_PATH.format(id=quote(provider_task_id, safe=""))
        answer = await request_json(client, settings, "GET", path)
        state = parse_foxapi_task(answer)
        if not state.provider_task_id:
            state = dataclasses.replace(state, provider_task_id=provider_task_id)
        return state
