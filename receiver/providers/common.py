"""Small, forgiving readers shared by the provider result parsers.

Provider answers are untrusted JSON: every reader here accepts the wrong type and
falls back instead of raising, so a surprising field never hides a task's outcome.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

MAX_MESSAGE_CHARS = 500
URL_PREFIXES = ("https://", "http://")


def as_dict(value: Any) -> dict[str, Any]:
    """A dict from a dict or a JSON-object string; {} for anything else."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str | bytes) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return dict(parsed) if isinstance(parsed, dict) else {}
    return {}


def as_text(value: Any) -> str | None:
    """A non-empty string (numbers become text), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text or None
    return None


def as_progress(value: Any) -> int | None:
    """A 0-100 integer from a number or numeric string, else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number:  # NaN
        return None
    return max(0, min(100, int(number)))


def is_url(value: Any) -> bool:
    """True for an http(s) URL string."""
    return isinstance(value, str) and value.startswith(URL_PREFIXES)


def url_list(value: Any) -> list[str]:
    """URLs from a URL string, a list of them, or a JSON-array string."""
    if is_url(value):
        return [value]
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if isinstance(value, list):
        return [item for item in value if is_url(item)]
    return []


def unique(urls: Iterable[str]) -> list[str]:
    """The URLs in first-seen order, without repeats."""
    return list(dict.fromkeys(urls))


def urls_anywhere(value: Any, depth: int = 0) -> list[str]:
    """Every http(s) URL inside a JSON value, depth-first, without repeats."""
    if depth > 8:
        return []
    if is_url(value):
        return [value]
    items: Iterable[Any] = ()
    if isinstance(value, Mapping):
        items = value.values()
    elif isinstance(value, list):
        items = value
    found: list[str] = []
    for item in items:
        found.extend(urls_anywhere(item, depth + 1))
    return unique(found)


def unwrap(obj: Any) -> dict[str, Any]:
    """The task object, also when a provider wraps it as `{"data": {...}}`."""
    top = as_dict(obj)
    inner = top.get("data")
    if "status" not in top and isinstance(inner, Mapping):
        return dict(inner)
    return top


def result_object(
    video_urls: list[str],
    character_id: str | None = None,
    character_name: str | None = None,
    image_urls: Iterable[str] = (),
) -> dict[str, Any]:
    """The normalised `result` of a succeeded task (all four keys always present).

    `video_urls` holds videos only; pictures (profile pictures, thumbnails, covers) go
    to `image_urls`.
    """
    return {
        "video_urls": unique(video_urls),
        "image_urls": unique(image_urls),
        "character_id": character_id,
        "character_name": character_name,
    }


def error_object(code: Any, message: Any, provider: str) -> dict[str, Any]:
    """The normalised `error`: `{"code": "provider_<code>", "message": ...}`."""
    code_text = as_text(code)
    text = as_text(message) or f"{provider} reported the task failed without a message"
    return {
        "code": f"provider_{code_text}" if code_text else "provider_failed",
        "message": text[:MAX_MESSAGE_CHARS],
    }


def error_from(value: Any, provider: str) -> dict[str, Any]:
    """The normalised `error` from an `error` field that is an object or a string."""
    if isinstance(value, Mapping):
        message = value.get("message") or value.get("msg") or value.get("error")
        return error_object(value.get("code") or value.get("type"), message, provider)
    return error_object(None, value, provider)
