"""The `callbacks` table: every inbound callback request with its verdict, for audit.

Secrets never reach it: signature, authorization and cookie headers are redacted, the
per-task token is never part of the stored route, and bodies are truncated. A refused
callback keeps only a bounded summary (see `audit_summary.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from receiver.clock import now_ms, rfc3339
from receiver.db import Executor, Row
from receiver.db.database import Statement
from receiver.ids import new_id
from receiver.store.audit_summary import (
    REASON_CHARS,
    body_digest,
    body_prefix,
    stored_bytes,
    summary_headers,
)
from receiver.store.jsonutil import dumps, loads
from receiver.store.pagination import Page, fetch_page

BODY_LIMIT_BYTES = 64 * 1024
HEADER_VALUE_CHARS = 2000
TEXT_CHARS = 200
REDACTED = "[redacted]"
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)
_SECRET_WORDS = ("signature", "secret", "token", "password")
VERDICTS = ("accepted", "duplicate", "malformed", "unauthorized", "not_found", "too_large",
            "unavailable", "timeout", "disconnected")  # fmt: skip


@dataclass(frozen=True)
class CallbackRecord:
    """One inbound request as it will be kept (built up by the route's stages as values)."""

    provider: str
    route: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    verdict: str = "unavailable"
    reason: str | None = None
    status_code: int = 503
    task_id: str | None = None
    provider_task_id: str | None = None


def clean_text(value: str, limit: int = TEXT_CHARS) -> str:
    """Text any database keeps: no NUL, no unpaired surrogates, at most `limit` chars."""
    text = value[:limit].replace("\x00", "\ufffd")
    return text.encode("utf-8", "replace").decode("utf-8")


def redact_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as a dict (repeats joined by ", "), secret-bearing values replaced."""
    out: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        name = clean_text(raw_name.lower())
        secret = name in _SECRET_HEADERS or any(word in name for word in _SECRET_WORDS)
        value = REDACTED if secret else clean_text(raw_value, HEADER_VALUE_CHARS)
        out[name] = f"{out[name]}, {value}" if name in out and not secret else value
    return out


def body_text(body: bytes | None, size: int | None = None) -> str | None:
    """The body as storable text, cut at BODY_LIMIT_BYTES (marked when cut).

    `size` is the whole body's size when `body` is already a prefix of it.
    """
    if body is None:
        return None
    size = len(body) if size is None else size
    text = clean_text(body[:BODY_LIMIT_BYTES].decode("utf-8", "replace"), BODY_LIMIT_BYTES)
    if size > min(len(body), BODY_LIMIT_BYTES):
        text += f"...[truncated: {size} bytes in all]"
    return text


_COLUMNS = (
    "INSERT INTO callbacks (id, provider, route, headers, body, verdict, reason, "
    "status_code, task_id, provider_task_id, received_at, body_size, body_sha256, "
    "stored_bytes) VALUES (?, ?, ?, ?, ?, "
)
_INSERT = _COLUMNS + "?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_AFTER_INBOX = (
    _COLUMNS + "CASE WHEN EXISTS (SELECT 1 FROM inbox WHERE id = ?) THEN 'accepted' "
    "ELSE 'duplicate' END, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def audit_insert(record: CallbackRecord) -> Statement:
    """The statement that stores one audit row (a bounded summary when it was refused)."""
    return _INSERT, _args(record, record.verdict)


def accepted_audit_insert(record: CallbackRecord, inbox_id: str) -> Statement:
    """The audit row of an accepted callback whose inbox insert (`inbox_id`) runs just before.

    Its verdict comes from that insert, in the same transaction: "accepted" if it stored
    the row, "duplicate" if the callback was stored before.
    """
    return _INSERT_AFTER_INBOX, _args(record, inbox_id)


def _args(record: CallbackRecord, verdict_arg: str) -> tuple[Any, ...]:
    refused = record.status_code >= 400
    size, digest = body_digest(record.body)
    headers = dumps(summary_headers(record.headers) if refused else record.headers)
    body = body_text(body_prefix(record.body) if refused else record.body, size)
    reason_chars = REASON_CHARS if refused else 500
    reason = clean_text(record.reason, reason_chars) if record.reason else None
    return (
        new_id("cbk"), clean_text(record.provider), clean_text(record.route),
        headers, body, verdict_arg, reason, record.status_code,
        record.task_id, record.provider_task_id, now_ms(), size, digest,
        stored_bytes(headers, body, reason),
    )  # fmt: skip


async def record_callback(db: Executor, record: CallbackRecord) -> str:
    """Store one audit row; returns its id."""
    sql, args = audit_insert(record)
    await db.execute(sql, *args)
    return str(args[0])


async def list_callbacks(
    db: Executor, filters: dict[str, str], *, limit: int, cursor: str | None
) -> Page:
    """Audit rows, newest first, filtered by provider, verdict, task_id, provider_task_id."""
    allowed = ("provider", "verdict", "task_id", "provider_task_id")
    pairs = [(k, v) for k, v in filters.items() if k in allowed and v]
    return await fetch_page(db, "callbacks", pairs, limit=limit, cursor=cursor)


async def get_callback(db: Executor, callback_id: str) -> Row | None:
    """One audit row by id."""
    return await db.fetchone("SELECT * FROM callbacks WHERE id = ?", callback_id)


async def purge_callbacks(db: Executor, *, older_than_ms: int) -> int:
    """Delete audit rows received before `older_than_ms`; how many went."""
    return await db.execute("DELETE FROM callbacks WHERE received_at < ?", older_than_ms)


def callback_to_api(row: Row) -> dict[str, Any]:
    """The public audit object."""
    return {
        "id": row["id"],
        "provider": row["provider"],
        "route": row["route"],
        "verdict": row["verdict"],
        "reason": row["reason"],
        "status_code": row["status_code"],
        "task_id": row["task_id"],
        "provider_task_id": row["provider_task_id"],
        "headers": loads(row["headers"]),
        "body": row["body"],
        "body_size": row.get("body_size"),
        "body_sha256": row.get("body_sha256"),
        "received_at": rfc3339(row["received_at"]),
    }
