"""Every documented input rule of every model: violations name field, rule and value."""

from __future__ import annotations

from typing import Any

import pytest

from dispatcher.providers import adapters, get_adapter
from dispatcher.providers.rules import MAX_SHOWN_CHARS
from receiver.errors import InvalidInput

URL = "https://files.example/clip.mp4"
IMG = "https://files.example/frame.png"
WAV = "https://files.example/speech.wav"

VALID: list[tuple[str, str, dict[str, Any]]] = [
    ("kie", "sora-2-characters", {"character_file_url": [URL]}),
    (
        "kie",
        "sora-2-characters",
        {"character_file_url": [URL], "character_prompt": "a" * 5000, "safety_instruction": "PG"},
    ),
    ("kie", "sora-2-text-to-video", {"prompt": "waves"}),
    (
        "kie",
        "sora-2-text-to-video",
        {
            "prompt": "waves",
            "aspect_ratio": "portrait",
            "n_frames": "15",
            "remove_watermark": True,
            "character_id_list": ["c1", "c2", "c3", "c4", "c5"],
        },
    ),
    ("kie", "sora-2-image-to-video", {"prompt": "move", "image_urls": [IMG]}),
    ("kie", "sora-2-pro-text-to-video", {"prompt": "waves", "size": "high"}),
    (
        "kie",
        "sora-2-pro-image-to-video",
        {"prompt": "move", "image_urls": [IMG], "size": "standard"},
    ),
    ("foxapi", "sora-2", {"prompt": "waves"}),
    (
        "foxapi",
        "sora-2-pro",
        {
            "prompt": "p" * 20000,
            "generation_type": "text-to-video",
            "aspect_ratio": "9:16",
            "duration": 12,
            "resolution": "1080p",
            "character_ids": ["char_a", "char_b"],
            "delete_video": False,
        },
    ),
    # the page gives creatify-aurora's prompt no limit
    ("foxapi", "creatify-aurora", {"image_url": IMG, "audio_url": WAV, "prompt": "p" * 30000}),
    # kie's page: only "Max 5000 characters", so "" is the provider's call
    ("kie", "sora-2-characters", {"character_file_url": [URL], "character_prompt": ""}),
    ("kie", "sora-2-characters", {"character_file_url": [URL], "safety_instruction": ""}),
    ("foxapi", "sora-2", {"prompt": "p", "image_urls": None}),
    ("foxapi", "sora-2", {"prompt": "p", "generation_type": "image-to-video", "image_urls": [IMG]}),
    ("foxapi", "sora-2-character", {"video_url": URL, "name": "A"}),
    ("foxapi", "sora-2-character", {"video_url": URL, "name": "x" * 80}),
    ("foxapi", "creatify-aurora", {"image_url": IMG, "audio_url": WAV}),
    (
        "foxapi",
        "creatify-aurora",
        {
            "image_url": IMG,
            "audio_url": WAV,
            "prompt": None,
            "guidance_scale": 0,
            "audio_guidance_scale": 5,
            "resolution": "480p",
        },
    ),
    ("foxapi", "creatify-aurora", {"image_url": IMG, "audio_url": WAV, "guidance_scale": 2.5}),
    ("toapis", "sora-2", {"url": URL, "timestamps": "1,3"}),
    ("toapis", "sora-2-pro", {"from_task": "task_01ABC", "timestamps": "0,1"}),
    ("toapis", "sora-2-vip", {"url": URL, "timestamps": "2,4"}),
    # "prompt parameter is not required in this mode": optional, so it may be given
    ("toapis", "sora-2", {"url": URL, "timestamps": "1,3", "prompt": "the fox"}),
    # generation mode has no primary page: fields beyond prompt pass through
    ("toapis", "sora-2", {"prompt": "x" * 20001, "duration": 0, "aspect_ratio": 1.5}),
    ("toapis", "sora-2", {"prompt": "p", "image_urls": [IMG, IMG], "seconds": "10"}),
    ("toapis", "sora-2", {"prompt": "@alice surfs", "character_url": "task_01ABC"}),
    ("toapis", "sora-2-pro", {"prompt": "a cat", "duration": 10, "image_urls": [IMG]}),
]


@pytest.mark.parametrize(("provider", "model", "task_input"), VALID)
def test_valid_input_passes_unchanged(
    provider: str, model: str, task_input: dict[str, Any]
) -> None:
    got = get_adapter(provider).validate(model, task_input)
    assert got == task_input
    assert got is not task_input


K_CHAR = ("kie", "sora-2-characters")
K_T2V = ("kie", "sora-2-text-to-video")
K_I2V = ("kie", "sora-2-image-to-video")
K_PRO = ("kie", "sora-2-pro-text-to-video")
F_SORA = ("foxapi", "sora-2")
F_PRO = ("foxapi", "sora-2-pro")
F_CHAR = ("foxapi", "sora-2-character")
F_CRE = ("foxapi", "creatify-aurora")
T_SORA = ("toapis", "sora-2")
KF = {"character_file_url": [URL]}
FC = {"video_url": URL, "name": "Al"}
CR = {"image_url": IMG, "audio_url": WAV}
TC = {"url": URL, "timestamps": "1,3"}

# (provider, model), input, field, rule, text the message must show (the value given)
INVALID: list[tuple[tuple[str, str], dict[str, Any], str, str, str]] = [
    # kie sora-2-characters
    (K_CHAR, {}, "character_file_url", "required", "None"),
    (K_CHAR, {"character_file_url": URL}, "character_file_url", "type", URL),
    (K_CHAR, {"character_file_url": []}, "character_file_url", "count", "[]"),
    (K_CHAR, {"character_file_url": [URL, URL]}, "character_file_url", "count", "clip.mp4"),
    (K_CHAR, {"character_file_url": ["ftp://x/c.mp4"]}, "character_file_url", "url", "ftp://x"),
    (K_CHAR, {**KF, "character_prompt": "a" * 5001}, "character_prompt", "max_length", "aaaa"),
    (K_CHAR, {**KF, "character_prompt": 7}, "character_prompt", "type", "7"),
    (K_CHAR, {**KF, "safety_instruction": "b" * 5001}, "safety_instruction", "max_length", "bbb"),
    (K_CHAR, {**KF, "callBackUrl": "https://me"}, "callBackUrl", "unknown_field", "https://me"),
    # kie sora-2 video models
    (K_T2V, {}, "prompt", "required", "None"),
    (K_T2V, {"prompt": "p" * 10001}, "prompt", "max_length", "ppp"),
    (K_T2V, {"prompt": "p", "aspect_ratio": "16:9"}, "aspect_ratio", "one_of", "16:9"),
    (K_T2V, {"prompt": "p", "n_frames": 10}, "n_frames", "one_of", "10"),
    (K_T2V, {"prompt": "p", "remove_watermark": "yes"}, "remove_watermark", "type", "yes"),
    (
        K_T2V,
        {"prompt": "p", "character_id_list": list("abcdef")},
        "character_id_list",
        "count",
        "'f'",
    ),
    (K_T2V, {"prompt": "p", "character_id_list": [5]}, "character_id_list", "type", "5"),
    (K_T2V, {"prompt": "p", "size": "high"}, "size", "unknown_field", "high"),
    (K_I2V, {"prompt": "p"}, "image_urls", "required", "None"),
    (K_I2V, {"prompt": "p", "image_urls": [IMG, IMG]}, "image_urls", "count", "frame.png"),
    (K_PRO, {"prompt": "p", "size": "ultra"}, "size", "one_of", "ultra"),
    # foxapi sora-2 / sora-2-pro
    (F_SORA, {}, "prompt", "required", "None"),
    (F_SORA, {"prompt": "   "}, "prompt", "min_length", "'   '"),
    (F_PRO, {"prompt": "q" * 20001}, "prompt", "max_length", "qqq"),
    (F_SORA, {"prompt": "p", "generation_type": "video"}, "generation_type", "one_of", "video"),
    (F_SORA, {"prompt": "p", "generation_type": "image-to-video"}, "image_urls", "count", "None"),
    (
        F_SORA,
        {"prompt": "p", "generation_type": "image-to-video", "image_urls": [IMG, IMG]},
        "image_urls",
        "count",
        "frame.png",
    ),
    (F_SORA, {"prompt": "p", "image_urls": [IMG]}, "image_urls", "requires", "frame.png"),
    (
        F_SORA,
        {"prompt": "p", "generation_type": "image-to-video", "image_urls": ["frame.png"]},
        "image_urls",
        "url",
        "frame.png",
    ),
    (F_SORA, {"prompt": "p", "aspect_ratio": "4:3"}, "aspect_ratio", "one_of", "4:3"),
    (F_SORA, {"prompt": "p", "duration": 5}, "duration", "one_of", "5"),
    (F_SORA, {"prompt": "p", "duration": "8"}, "duration", "one_of", "'8'"),
    (F_PRO, {"prompt": "p", "duration": 8.0}, "duration", "one_of", "8.0"),
    (F_SORA, {"prompt": "p", "resolution": "4k"}, "resolution", "one_of", "4k"),
    (F_SORA, {"prompt": "p", "character_ids": ["a", "b", "c"]}, "character_ids", "count", "'c'"),
    (F_SORA, {"prompt": "p", "character_ids": "char_a"}, "character_ids", "type", "char_a"),
    (F_SORA, {"prompt": "p", "character_ids": [""]}, "character_ids", "min_length", "''"),
    (F_SORA, {"prompt": "p", "delete_video": "false"}, "delete_video", "type", "false"),
    (
        F_SORA,
        {"prompt": "p", "callback_url": "https://me"},
        "callback_url",
        "unknown_field",
        "https://me",
    ),
    # foxapi sora-2-character
    (F_CHAR, {"name": "Al"}, "video_url", "required", "None"),
    (F_CHAR, {"video_url": "clip.mp4", "name": "Al"}, "video_url", "url", "clip.mp4"),
    (F_CHAR, {"video_url": URL}, "name", "required", "None"),
    (F_CHAR, {"video_url": URL, "name": ""}, "name", "min_length", "''"),
    (F_CHAR, {"video_url": URL, "name": "n" * 81}, "name", "max_length", "nnn"),
    (F_CHAR, {**FC, "prompt": "x"}, "prompt", "unknown_field", "'x'"),
    # foxapi creatify-aurora
    (F_CRE, {"audio_url": WAV}, "image_url", "required", "None"),
    (F_CRE, {"image_url": IMG}, "audio_url", "required", "None"),
    (F_CRE, {"image_url": IMG, "audio_url": "speech.wav"}, "audio_url", "url", "speech.wav"),
    (F_CRE, {**CR, "guidance_scale": 5.5}, "guidance_scale", "range", "5.5"),
    (F_CRE, {**CR, "guidance_scale": -1}, "guidance_scale", "range", "-1"),
    (F_CRE, {**CR, "guidance_scale": "1"}, "guidance_scale", "type", "'1'"),
    (F_CRE, {**CR, "guidance_scale": True}, "guidance_scale", "type", "True"),
    (F_CRE, {**CR, "audio_guidance_scale": 6}, "audio_guidance_scale", "range", "6"),
    (F_CRE, {**CR, "resolution": "1080p"}, "resolution", "one_of", "1080p"),
    (F_CRE, {**CR, "prompt": 12}, "prompt", "type", "12"),
    (F_CRE, {**CR, "guidance": 1}, "guidance", "unknown_field", "1"),
    # toapis character creation
    (
        T_SORA,
        {"url": URL, "from_task": "task_1", "timestamps": "1,3"},
        "from_task",
        "exactly_one_of",
        "task_1",
    ),
    (T_SORA, {"url": URL}, "timestamps", "required", "None"),
    (T_SORA, {"timestamps": "1,3"}, "url", "exactly_one_of", "{}"),
    (T_SORA, {"url": "not a url", "timestamps": "1,3"}, "url", "url", "not a url"),
    (T_SORA, {"url": URL, "timestamps": "1-3"}, "timestamps", "format", "1-3"),
    (T_SORA, {"url": URL, "timestamps": "a,b"}, "timestamps", "format", "a,b"),
    (T_SORA, {"url": URL, "timestamps": 13}, "timestamps", "format", "13"),
    (T_SORA, {"url": URL, "timestamps": "-1,1"}, "timestamps", "format", "-1,1"),
    (T_SORA, {"url": URL, "timestamps": "1,1.5"}, "timestamps", "format", "1,1.5"),
    (T_SORA, {"url": URL, "timestamps": "1, 3"}, "timestamps", "format", "1, 3"),
    (T_SORA, {"url": URL, "timestamps": "0.5,2.5"}, "timestamps", "format", "0.5,2.5"),
    (T_SORA, {"url": URL, "timestamps": "1,5"}, "timestamps", "span", "1,5"),
    (T_SORA, {"url": URL, "timestamps": "3,1"}, "timestamps", "span", "3,1"),
    (T_SORA, {**TC, "name": "Al"}, "name", "unknown_field", "Al"),
    # toapis video generation
    (T_SORA, {}, "prompt", "required", "None"),
    (T_SORA, {"character_url": "task_1"}, "prompt", "required", "None"),
    (T_SORA, {"promt": "a cat"}, "prompt", "required", "None"),
    (T_SORA, {"prompt": "p", "character_url": 5}, "character_url", "type", "5"),
    # foxapi sora-2 page: duration 4, 8 or 12 only
    (F_SORA, {"prompt": "p", "duration": 16}, "duration", "one_of", "16"),
    (F_SORA, {"prompt": "p", "duration": 20}, "duration", "one_of", "20"),
]


@pytest.mark.parametrize(("target", "task_input", "field", "rule", "shown"), INVALID)
def test_violation_names_field_rule_and_value(
    target: tuple[str, str], task_input: dict[str, Any], field: str, rule: str, shown: str
) -> None:
    provider, model = target
    with pytest.raises(InvalidInput) as caught:
        get_adapter(provider).validate(model, task_input)
    err = caught.value
    assert (err.field, err.context["rule"]) == (field, rule), err.message
    assert shown in err.message
    assert field in err.message
    assert err.status_code == 422
    body = err.to_body()["error"]
    assert body["field"] == field
    assert len(body["value"]) <= MAX_SHOWN_CHARS + 5


def test_message_says_how_to_fix() -> None:
    with pytest.raises(InvalidInput) as caught:
        get_adapter("foxapi").validate("sora-2", {"prompt": "p", "duration": 5})
    assert "use one of 4, 8, 12" in caught.value.message
    assert "16" not in caught.value.message


def test_unknown_field_suggests_and_lists_allowed() -> None:
    with pytest.raises(InvalidInput) as caught:
        get_adapter("foxapi").validate("sora-2", {"prompt": "p", "aspect": "16:9"})
    message = caught.value.message
    assert "did you mean 'aspect_ratio'" in message
    for name in ("prompt", "duration", "character_ids", "delete_video"):
        assert name in message


def test_toapis_missing_prompt_explains_both_modes() -> None:
    with pytest.raises(InvalidInput) as caught:
        get_adapter("toapis").validate("sora-2", {})
    assert "from_task" in caught.value.message
    assert "timestamps" in caught.value.message


@pytest.mark.parametrize("provider", ["kie", "foxapi", "toapis"])
def test_unknown_model_lists_known_models(provider: str) -> None:
    adapter = get_adapter(provider)
    with pytest.raises(InvalidInput) as caught:
        adapter.validate("sora-9", {"prompt": "p"})
    assert caught.value.field == "model"
    assert "sora-9" in caught.value.message
    for model in adapter.models():
        assert model in caught.value.message


@pytest.mark.parametrize("provider", ["kie", "foxapi", "toapis"])
def test_input_must_be_an_object(provider: str) -> None:
    adapter = get_adapter(provider)
    model = sorted(adapter.models())[0]
    with pytest.raises(InvalidInput) as caught:
        adapter.validate(model, ["prompt"])  # type: ignore[arg-type]
    assert caught.value.field == "input"
    assert "['prompt']" in caught.value.message


def test_unknown_provider_names_known_ones() -> None:
    with pytest.raises(InvalidInput) as caught:
        get_adapter("openai")
    assert caught.value.field == "provider"
    assert "'openai'" in caught.value.message
    for name in ("kie", "foxapi", "toapis"):
        assert name in caught.value.message


def test_registry_models() -> None:
    registry = adapters()
    assert set(registry) == {"kie", "foxapi", "toapis"}
    assert registry["foxapi"].models() == {
        "sora-2",
        "sora-2-pro",
        "sora-2-character",
        "creatify-aurora",
    }
    assert "sora-2-characters" in registry["kie"].models()
    assert registry["toapis"].models() == {"sora-2", "sora-2-pro", "sora-2-vip"}


def test_long_values_are_truncated_in_messages() -> None:
    with pytest.raises(InvalidInput) as caught:
        get_adapter("foxapi").validate("sora-2", {"prompt": "z" * 30000})
    assert len(caught.value.message) < 400
    assert "chars" in caught.value.message
