"""When a result's URLs stop working (pure functions, no I/O).

toapis answers `expires_at` (Unix seconds) with a completed task; kie ("Generated content
URLs typically expire after 24 hours", its Get Task Details page) and foxapi (NOTES.md:
"Result URLs valid about 24 h") document a lifetime instead, counted from completion.
"""

from __future__ import annotations

from typing import Any

from receiver.clock import now_ms
from receiver.providers.cost import number

RESULT_LIFETIME_MS = 24 * 3600 * 1000


def has_urls(result: dict[str, Any] | None) -> bool:
    """True when a result carries a video or picture URL (a bare character id does not expire)."""
    return bool(result and (result.get("video_urls") or result.get("image_urls")))


def expires_at_ms(
    result: dict[str, Any] | None, *, reported_s: Any = None, completed_ms: Any = None
) -> int | None:
    """The provider's `expires_at` (s), else completion (ms, default now) + the lifetime."""
    if not has_urls(result):
        return None
    reported = number(reported_s)
    if reported is not None:
        return int(reported * 1000)
    completed = number(completed_ms)
    return int(completed if completed is not None else now_ms()) + RESULT_LIFETIME_MS
