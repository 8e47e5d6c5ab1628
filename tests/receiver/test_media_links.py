"""Signed media links, safe path parts, and the archive settings."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from receiver.errors import ConfigError
from receiver.media.entries import sources_of
from receiver.media.links import LinkSigner, safe_part
from receiver.settings import Settings
from tests.support import SECRET_KEY


def _parts(url: str) -> tuple[str, str, str, str]:
    split = urlsplit(url)
    _, _, task_id, name = split.path.split("/")
    query = parse_qs(split.query)
    return task_id, name, query["expires"][0], query["signature"][0]


def test_a_link_verifies_until_it_expires_and_only_for_its_file() -> None:
    signer = LinkSigner(SECRET_KEY, "https://hooks.example")
    url = signer.link("tsk_1", "video-0.mp4", ttl_s=60)
    assert url.startswith("https://hooks.example/media/tsk_1/video-0.mp4?expires=")
    task_id, name, expires, signature = _parts(url)
    assert signer.valid(task_id, name, expires, signature)
    assert not signer.valid(task_id, "video-1.mp4", expires, signature)
    assert not signer.valid(task_id, name, str(int(expires) + 3600), signature)
    assert not LinkSigner("another-secret-key-0123456789-0123456789", "x").valid(
        task_id, name, expires, signature
    )
    old = signer.link("tsk_1", "video-0.mp4", ttl_s=60, now_s=time.time() - 120)
    assert not signer.valid(*_parts(old))


def test_path_parts_cannot_leave_the_folder() -> None:
    assert safe_part("tsk_01ABC") and safe_part("video-0.mp4")
    for bad in ("..", "a/b", ".hidden", "", "x..y", "a\\b"):
        assert not safe_part(bad), bad


def test_sources_take_videos_then_images_and_tolerate_absent_lists() -> None:
    result = {"video_urls": ["https://c.example/a/clip.MP4?sig=1"], "character_id": "c1",
              "image_urls": ["https://c.example/face", None]}  # fmt: skip
    assert [(s.position, s.name) for s in sources_of(result)] == [
        (0, "video-0.mp4"),
        (1, "image-0"),
    ]
    assert sources_of({"character_id": "c1"}) == [] and sources_of(None) == []


def test_archive_settings_from_the_environment() -> None:
    settings = Settings.from_env({})
    assert settings.media == "file" and settings.media_wait_s == 120.0
    assert settings.media_max_mb == 500 and settings.media_retention_days == 30.0
    custom = Settings.from_env({"TASKHOOK_MEDIA": "s3://bucket/videos",
                                "TASKHOOK_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
                                "TASKHOOK_MEDIA_URL_TTL_S": "3600"})  # fmt: skip
    assert custom.media == "s3://bucket/videos" and custom.media_url_ttl_s == 3600.0
    with pytest.raises(ConfigError, match="TASKHOOK_MEDIA"):
        Settings.from_env({"TASKHOOK_MEDIA": "ftp://x"})
    with pytest.raises(ConfigError, match="TASKHOOK_MEDIA_MAX_MB"):
        Settings.from_env({"TASKHOOK_MEDIA_MAX_MB": "0"})
