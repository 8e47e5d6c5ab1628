"""Telling videos from pictures in a provider's `result` (pure functions, no I/O).

A URL is a picture when the key holding it names one (`profile_picture_url`,
`thumbnail`, `cover`, ...) or its path ends in an image extension; any other URL is a
video. Videos go to `result.video_urls`, pictures to `result.image_urls`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from receiver.providers.common import is_url, unique

IMAGE_KEY_WORDS = ("picture", "thumbnail", "thumb", "cover", "poster", "avatar", "image",
                   "photo", "preview", "icon")  # fmt: skip
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".avif", ".heic")
MAX_DEPTH = 8


def is_image_key(key: str) -> bool:
    """True when a result key names a picture (e.g. `profile_picture_url`)."""
    lowered = key.lower()
    return any(word in lowered for word in IMAGE_KEY_WORDS)


def is_image_url(url: str) -> bool:
    """True when the URL's path ends in an image extension."""
    return urlsplit(url).path.lower().endswith(IMAGE_EXTENSIONS)


def split_media(value: Any) -> tuple[list[str], list[str]]:
    """(video URLs, picture URLs) found anywhere in a JSON value, first-seen order."""
    videos: list[str] = []
    images: list[str] = []
    for url, image in _walk(value, image=False, depth=0):
        (images if image or is_image_url(url) else videos).append(url)
    return unique(videos), unique(images)


def _walk(value: Any, *, image: bool, depth: int) -> Iterable[tuple[str, bool]]:
    if depth > MAX_DEPTH:
        return
    if is_url(value):
        yield value, image
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, image=image or is_image_key(str(key)), depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, image=image, depth=depth + 1)
