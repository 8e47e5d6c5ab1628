"""kie.ai's Sora 2 video models in the emulator, as kie's public model pages document them.

Models `sora-2-text-to-video`, `sora-2-image-to-video`, `sora-2-pro-text-to-video`,
`sora-2-pro-image-to-video` on `POST /api/v1/jobs/createTask`: `input.prompt`,
`aspect_ratio` (`portrait`/`landscape`), `n_frames` (`"10"`/`"15"`), `remove_watermark`,
`upload_method` (`s3`/`oss`), `character_id_list` (at most 5 character ids from
`sora-2-characters`), `image_urls` (image-to-video: one first frame), `size` (pro:
`standard`/`high`). recordInfo's `resultJson` is `{"resultUrls": [...]}`.
"""

from __future__ import annotations

import json
from typing import Any

from dispatcher.emulator import fields
from dispatcher.emulator.context import fake_url
from dispatcher.emulator.gate import Rejected
from dispatcher.emulator.state import EmuTask, FailReason

NAME = "kie"
MODELS = ("sora-2-text-to-video", "sora-2-image-to-video",
          "sora-2-pro-text-to-video", "sora-2-pro-image-to-video")  # fmt: skip
MAX_PROMPT = 10000
ASPECT_RATIOS = ("portrait", "landscape")
N_FRAMES = ("10", "15")
UPLOAD_METHODS = ("s3", "oss")
PRO_SIZES = ("standard", "high")
MAX_CHARACTERS = 5
REASONS = (
    FailReason("500", "Internal Error, Please try again later."),
    FailReason("400", "Your prompt was flagged by the content policy. Please modify and retry."),
    FailReason("501", "Video generation failed, please try again."),
)


def validate_input(model: str, params: dict[str, Any], known_characters: set[str]) -> None:
    """Check a video model's `input`; `known_characters` are this account's character ids."""
    fields.text(params, "prompt", max_len=MAX_PROMPT, required=True, prefix="input.")
    if "image-to-video" in model:
        if params.get("image_urls") is None:
            raise Rejected("input.image_urls is required: one first-frame image URL")
        fields.url_list(params, "image_urls", exactly=1)
    for key, options in (("aspect_ratio", ASPECT_RATIOS), ("n_frames", N_FRAMES),
                         ("upload_method", UPLOAD_METHODS)):  # fmt: skip
        fields.choice(params, key, options)
    if "-pro-" in model:
        fields.choice(params, "size", PRO_SIZES)
    fields.boolean(params, "remove_watermark")
    _characters(params.get("character_id_list"), known_characters)


def _characters(ids: Any, known: set[str]) -> None:
    if ids is None:
        return
    if not isinstance(ids, list) or len(ids) > MAX_CHARACTERS:
        raise Rejected(f"input.character_id_list must be an array of at most {MAX_CHARACTERS} ids")
    for character in ids:
        if not isinstance(character, str) or character not in known:
            raise Rejected(f"input.character_id_list: character {character!r} not found")


def result_json(task: EmuTask) -> str:
    """`{"resultUrls": [...]}` as a JSON string, as recordInfo reports it."""
    return json.dumps({"resultUrls": [fake_url(NAME, task.id, "video.mp4")]})
