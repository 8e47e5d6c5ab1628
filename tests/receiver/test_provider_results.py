"""Provider task records normalised into taskhook's words (CONTRACT: Provider results)."""

from __future__ import annotations

import json

import pytest

from receiver.providers import (
    kie_callback_task_id,
    parse_foxapi_task,
    parse_kie_callback,
    parse_kie_record,
    parse_toapis_task,
)

# --- kie ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("waiting", "submitted"),
        ("queuing", "submitted"),
        ("generating", "running"),
        ("success", "succeeded"),
        ("fail", "failed"),
        ("something-new", "running"),
    ],
)
def test_kie_states_map_to_taskhook_statuses(state: str, status: str) -> None:
    got = parse_kie_record({"taskId": "task_1", "state": state})
    assert got.status == status
    assert got.provider_task_id == "task_1"


def test_kie_character_id_from_result_json_string() -> None:
    record = {"taskId": "t", "state": "success", "resultJson": '{"character_id": "char_9"}'}
    got = parse_kie_record(record)
    assert got.result == {
        "video_urls": [],
        "image_urls": [],
        "character_id": "char_9",
        "character_name": None,
    }
    assert got.progress == 100
    assert got.raw == record


def test_kie_character_id_list_takes_the_first() -> None:
    result_json = json.dumps({"character_id_list": ["char_a", "char_b"]})
    got = parse_kie_record({"taskId": "t", "state": "success", "resultJson": result_json})
    assert got.result is not None
    assert got.result["character_id"] == "char_a"


def test_kie_result_urls_and_dict_result_json_tolerated() -> None:
    urls = ["https://cdn.example/a.mp4", "https://cdn.example/b.mp4"]
    got = parse_kie_record({"taskId": "t", "state": "success", "resultJson": {"resultUrls": urls}})
    assert got.result is not None
    assert got.result["video_urls"] == urls


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]", 42, None, ""])
def test_kie_malformed_result_json_gives_empty_result_not_crash(bad: object) -> None:
    got = parse_kie_record({"taskId": "t", "state": "success", "resultJson": bad})
    assert got.status == "succeeded"
    assert got.result == {
        "video_urls": [],
        "image_urls": [],
        "character_id": None,
        "character_name": None,
    }


def test_kie_failure_carries_fail_code_and_message() -> None:
    got = parse_kie_record(
        {"taskId": "t", "state": "fail", "failCode": "501", "failMsg": "content policy"}
    )
    assert got.status == "failed"
    assert got.error == {"code": "provider_501", "message": "content policy"}
    assert got.result is None


def test_kie_failure_without_message_still_explains() -> None:
    got = parse_kie_record({"taskId": "t", "state": "fail"})
    assert got.error is not None
    assert got.error["code"] == "provider_failed"
    assert "kie" in got.error["message"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"data": {"taskId": "a", "task_id": "b"}, "taskId": "c"}, "a"),
        ({"data": {"task_id": "b"}, "taskId": "c"}, "b"),
        ({"data": {}, "taskId": "c"}, "c"),
        ({"data": "oops", "taskId": "c"}, "c"),
        ({"data": {"taskId": ""}}, None),
        ({}, None),
    ],
)
def test_kie_callback_task_id_lookup_order(body: dict[str, object], expected: str | None) -> None:
    assert kie_callback_task_id(body) == expected


def test_kie_callback_body_uses_state_of_data() -> None:
    body = {
        "code": 200,
        "msg": "ok",
        "data": {"taskId": "t", "state": "success", "resultJson": '{"resultUrls":["https://x/v"]}'},
    }
    got = parse_kie_callback(body)
    assert got.status == "succeeded"
    assert got.result is not None
    assert got.result["video_urls"] == ["https://x/v"]


def test_kie_callback_without_state_uses_envelope_code() -> None:
    got = parse_kie_callback({"code": 501, "msg": "generation failed", "data": {"taskId": "t"}})
    assert got.status == "failed"
    assert got.error == {"code": "provider_501", "message": "generation failed"}


# --- foxapi ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", "submitted"),
        ("processing", "running"),
        ("completed", "succeeded"),
        ("failed", "failed"),
        ("cancelled", "cancelled"),
    ],
)
def test_foxapi_statuses(status: str, expected: str) -> None:
    assert parse_foxapi_task({"id": "f1", "status": status, "progress": 40}).status == expected


def test_foxapi_results_urls() -> None:
    got = parse_foxapi_task(
        {"id": "f1", "status": "completed", "results": [{"url": "https://r/1.mp4"}, {"url": 3}]}
    )
    assert got.result == {
        "video_urls": ["https://r/1.mp4"],
        "image_urls": [],
        "character_id": None,
        "character_name": None,
    }


def test_foxapi_output_url_and_urls_shape() -> None:
    output = {"url": "https://o/1.mp4", "urls": ["https://o/1.mp4", "https://o/2.mp4"]}
    got = parse_foxapi_task({"id": "f1", "status": "completed", "output": output})
    assert got.result is not None
    assert got.result["video_urls"] == ["https://o/1.mp4", "https://o/2.mp4"]


def test_foxapi_character_result() -> None:
    got = parse_foxapi_task(
        {"id": "f1", "status": "completed", "results": [{"character_id": "ch_1", "name": "Alice"}]}
    )
    assert got.result == {
        "video_urls": [],
        "image_urls": [],
        "character_id": "ch_1",
        "character_name": "Alice",
    }


def test_foxapi_progress_clamped_and_error_object() -> None:
    running = parse_foxapi_task({"id": "f1", "status": "processing", "progress": "250"})
    assert running.progress == 100
    failed = parse_foxapi_task(
        {"id": "f1", "status": "failed", "error": {"code": "moderation", "message": "blocked"}}
    )
    assert failed.error == {"code": "provider_moderation", "message": "blocked"}
    as_text = parse_foxapi_task({"id": "f1", "status": "failed", "error": "quota"})
    assert as_text.error == {"code": "provider_failed", "message": "quota"}


def test_foxapi_wrapped_in_data_is_unwrapped() -> None:
    got = parse_foxapi_task({"data": {"id": "f9", "status": "completed", "results": []}})
    assert (got.provider_task_id, got.status) == ("f9", "succeeded")


# --- toapis ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("queued", "submitted"),
        ("submitted", "submitted"),
        ("in_progress", "running"),
        ("completed", "succeeded"),
        ("failed", "failed"),
    ],
)
def test_toapis_statuses(status: str, expected: str) -> None:
    assert parse_toapis_task({"id": "task_1", "status": status}).status == expected


def test_toapis_video_result_thumbnails_are_pictures() -> None:
    """A thumbnail is not a video: videos in video_urls, pictures in image_urls."""
    result = {"url": "https://v/1.mp4", "thumbnails": [{"src": "https://v/1"}],
              "poster": "https://v/p.jpg"}  # fmt: skip
    got = parse_toapis_task({"id": "task_1", "status": "completed", "result": result})
    assert got.result == {
        "video_urls": ["https://v/1.mp4"],
        "image_urls": ["https://v/1", "https://v/p.jpg"],
        "character_id": None,
        "character_name": None,
    }


def test_toapis_character_result_uses_task_id() -> None:
    result = {"character_id": "inner", "name": "Bob", "profile_picture_url": "https://v/p"}
    task = {"id": "task_C", "status": "completed", "result": result}
    got = parse_toapis_task(task, character=True)
    assert got.result is not None
    assert got.result["character_id"] == "task_C"
    assert got.result["character_name"] == "Bob"
    assert got.result["video_urls"] == []
    assert got.result["image_urls"] == ["https://v/p"]


def test_toapis_character_keys_do_not_make_a_generation_a_character() -> None:
    """Character vs generation comes from the request, not from guessing by key names."""
    result = {"username": "someone", "url": "https://v/1.mp4"}
    got = parse_toapis_task({"id": "task_G", "status": "completed", "result": result})
    assert got.result is not None
    assert got.result["character_id"] is None
    assert got.result["video_urls"] == ["https://v/1.mp4"]


def test_toapis_character_flag_forces_character_id() -> None:
    got = parse_toapis_task({"id": "task_C", "status": "completed", "result": {}}, character=True)
    assert got.result is not None
    assert got.result["character_id"] == "task_C"


def test_toapis_failure_error() -> None:
    got = parse_toapis_task(
        {"id": "t", "status": "failed", "error": {"message": "no audio in video"}}
    )
    assert got.error == {"code": "provider_failed", "message": "no audio in video"}
