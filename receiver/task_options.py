"""Per-task `metadata` (a small JSON object echoed in every event of the task) and
`webhook` (a URL receiving that task's events), as accepted by `POST /api/tasks`."""

from __future__ import annotations

from typing import Any

from receiver.errors import InvalidInput
from receiver.store.jsonutil import dumps

MAX_METADATA_BYTES = 4096
MAX_WEBHOOK_CHARS = 2048


def parse_metadata(value: Any) -> dict[str, Any] | None:
    """A JSON object of at most 4 KiB (serialised), or None; InvalidInput otherwise."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput('metadata must be a JSON object, e.g. {"customer": "acme"}',
                           field="metadata")  # fmt: skip
    size = len(dumps(value).encode())
    if size > MAX_METADATA_BYTES:
        raise InvalidInput(
            f"metadata is {size} bytes as JSON: at most {MAX_METADATA_BYTES}", field="metadata"
        )
    return value


def parse_webhook(value: Any) -> str | None:
    """A URL string (checked by the subscriber guard when stored), or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_WEBHOOK_CHARS:
        raise InvalidInput(
            f"webhook must be a https:// URL (at most {MAX_WEBHOOK_CHARS} characters)",
            field="webhook",
        )
    return value.strip()


def parse_meta_args(items: list[str]) -> dict[str, Any] | None:
    """CLI `--meta key=value` (repeatable) -> metadata (values stay strings)."""
    if not items:
        return None
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--meta {item!r}: use key=value, e.g. customer=acme",
                               field="metadata")  # fmt: skip
        out[key.strip()] = value
    return parse_metadata(out)
