"""Allowed values per provider and model, as data: a later correction is one line here.

Sources: the five provider pages in shared/providers/ (primary) and NOTES.md. The page
wins where sources disagree; where a page is silent taskhook adds no rule of its own and
the provider decides.
"""

from __future__ import annotations

# --- kie.ai --------------------------------------------------------------------------------
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

# --- foxapi --------------------------------------------------------------------------------
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

# --- toapis --------------------------------------------------------------------------------
TOAPIS_MODELS = frozenset({"sora-2", "sora-2-pro", "sora-2-vip"})
# character creation page: timestamps "start,end" in seconds, end - start within 1..3.
TOAPIS_TIMESTAMP_SPAN_S = (1.0, 3.0)
# Video generation reusing a character (`character_url`): no primary page, so only
# `prompt` (required) and `character_url` are checked; other fields pass through.
