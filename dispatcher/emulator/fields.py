"""Field checks shared by the providers' request validation (raise `Rejected`)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from dispatcher.emulator.gate import Rejected


def require_object(body: Any) -> dict[str, Any]:
    """The body as a dict, or Rejected(400)."""
    if not isinstance(body, dict):
        raise Rejected("the request body must be a JSON object", status=400)
    return body


def is_url(value: Any) -> bool:
    """An absolute http(s) URL with a host."""
    if not isinstance(value, str) or len(value) > 4096:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def url(body: dict[str, Any], key: str, *, required: bool = True, prefix: str = "") -> str | None:
    """An http(s) URL field."""
    value = body.get(key)
    if value is None and not required:
        return None
    if not is_url(value):
        raise Rejected(f"{prefix}{key} must be an http(s) URL", param=prefix + key)
    return str(value)


def text(
    body: dict[str, Any],
    key: str,
    *,
    max_len: int,
    required: bool = False,
    prefix: str = "",
) -> str | None:
    """A string field of 1..max_len characters (None when optional and absent)."""
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        what = "is required and must be" if required else "must be"
        raise Rejected(f"{prefix}{key} {what} a non-empty string", param=prefix + key)
    if len(value) > max_len:
        raise Rejected(
            f"{prefix}{key} is {len(value)} characters; the limit is {max_len}",
            param=prefix + key,
        )
    return value


def choice(body: dict[str, Any], key: str, options: Collection[Any]) -> Any:
    """An optional field limited to `options`."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or value not in options:
        allowed = ", ".join(str(o) for o in options)
        raise Rejected(f"{key} must be one of {allowed} (got {value!r})", param=key)
    return value


def number(body: dict[str, Any], key: str, low: float, high: float) -> float | None:
    """An optional number within [low, high]."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise Rejected(f"{key} must be a number from {low:g} to {high:g}", param=key)
    return float(value)


def boolean(body: dict[str, Any], key: str) -> bool | None:
    """An optional true/false."""
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise Rejected(f"{key} must be true or false", param=key)
    return value


def url_list(
    body: dict[str, Any], key: str, *, exactly: int | None = None, most: int | None = None
) -> list[str] | None:
    """An optional array of URLs with a count limit."""
    value = body.get(key)
    if value is None:
        return None
    count_ok = isinstance(value, list) and (exactly is None or len(value) == exactly)
    if not count_ok or (most is not None and len(value) > most):
        size = f"exactly {exactly}" if exactly is not None else f"at most {most}"
        raise Rejected(f"{key} must be an array of {size} URL(s)", param=key)
    if not all(is_url(item) for item in value):
        raise Rejected(f"every entry of {key} must be an http(s) URL", param=key)
    return list(value)
