"""Time in one place: UTC epoch milliseconds in the store, RFC 3339 at the edges."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    """The current UTC time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def rfc3339(ms: int | None) -> str | None:
    """Format epoch milliseconds as RFC 3339 UTC (`2026-11-23T18:00:00.123Z`)."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> int:
    """Parse RFC 3339 / ISO 8601 (a naive time is taken as UTC) into epoch milliseconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
