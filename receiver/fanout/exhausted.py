"""`delivery.exhausted`: a delivery went to the dead letters after its last retry.

Sent only to the other subscribers whose filter asks for it by type (e.g.
`type=delivery.*`): a subscriber without a type filter does not get operational noise,
and an exhausted `delivery.exhausted` raises no further event (no cascade).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from receiver.db import Executor, Row
from receiver.store.events import emit_event, get_event
from receiver.store.jsonutil import loads
from receiver.store.subscribers import filter_matches, other_enabled_filters, redact_url

EXHAUSTED = "delivery.exhausted"


def asks_for(spec: Mapping[str, Sequence[str]], event: Mapping[str, Any]) -> bool:
    """True when a filter names a matching type explicitly and matches the rest."""
    return bool(spec.get("type")) and filter_matches(spec, event)


async def note_exhausted(
    tx: Executor, delivery: Row, sub: Row, status_code: int | None, error: str | None
) -> dict[str, Any] | None:
    """Emit `delivery.exhausted` for a delivery that just went dead (in its transaction)."""
    original = await get_event(tx, delivery["event_id"])
    if original is None or original["type"] == EXHAUSTED:
        return None
    data = _data(delivery, sub, original, status_code, error)
    probe = {"type": EXHAUSTED, "data": data}
    rows = await other_enabled_filters(tx, sub["id"])
    wanted = [row for row in rows if asks_for(loads(row["filter"]) or {}, probe)]
    return await emit_event(tx, EXHAUSTED, data, task_id=original["task_id"], subscribers=wanted)


def _data(
    delivery: Row, sub: Row, original: Row, status_code: int | None, error: str | None
) -> dict[str, Any]:
    payload = loads(original["payload"]) or {}
    inner = payload.get("data") or {}
    return {
        "delivery_id": delivery["id"],
        "event_id": delivery["event_id"],
        "event_type": original["type"],
        "task_id": original["task_id"],
        "provider": inner.get("provider"),
        "model": inner.get("model"),
        "subscriber_id": sub["id"],
        "kind": sub["kind"],
        "url": redact_url(sub["url"]),
        "attempts": delivery["attempt_count"] + 1,
        "last_status": status_code,
        "last_error": error,
    }
