"""Subscriber filters: which events a subscriber wants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from receiver.db import Executor, Row
from receiver.store.jsonutil import loads

FILTER_KEYS = ("provider", "type", "model", "status")


def filter_matches(spec: Mapping[str, Sequence[str]], event: Mapping[str, Any]) -> bool:
    """True when every filter key has a glob matching the event (keys AND, globs OR)."""
    data = event.get("data") or {}
    for key, patterns in spec.items():
        value = event.get("type") if key == "type" else data.get(key)
        if not patterns:
            continue
        if value is None or not any(fnmatchcase(str(value), p) for p in patterns):
            return False
    return True


async def matching_subscribers(db: Executor, event: Mapping[str, Any]) -> list[Row]:
    """Enabled subscribers whose filter matches `event` (paused ones included: they queue)."""
    rows = await db.fetchall("SELECT id, filter FROM subscribers WHERE enabled = 1 ORDER BY id")
    return [row for row in rows if filter_matches(loads(row["filter"]) or {}, event)]
