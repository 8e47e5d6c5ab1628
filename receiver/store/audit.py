"""The `callbacks` table: every inbound callback request with its verdict, for audit.

Secrets never reach it: signature, authorization and cookie headers are redacted, the
per-task token is never part of the stored route, and bodies are truncated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from receiver.clock import now_ms, rfc3339
from receiver.db import Executor, Row
from receiver.db.database import Statement
from receiver.ids import new_id
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
            "unavailable")  # fmt: skip


@dataclass
class CallbackRecord:
    """One inbound request as it will be kept."""

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


def body_text(body: bytes | None) -> str | None:
    """The body as storable text, cut at BODY_LIMIT_BYTES (marked when cut)."""
    if body is None:
        return None
    text = clean_text(body[:BODY_LIMIT_BYTES].decode("utf-8", "replace"), BODY_LIMIT_BYTES)
    if len(body) > BODY_LIMIT_BYTES:
        text += f"...[truncated: {len(body)} bytes in all]"
    return text


_INSERT = (
    "INSERT INTO callbacks (id, provider, route, headers, body, verdict, reason, "
    "status_code, task_id, provider_task_id, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_AFTER_INBOX = (
    "INSERT INTO callbacks (id, provider, route, headers, body, verdict, reason, "
    "status_code, task_id, provider_task_id, received_at) VALUES (?, ?, ?, ?, ?, "
    "CASE WHEN EXISTS (SELECT 1 FROM inbox WHERE id = ?) THEN 'accepted' ELSE 'duplicate' END, "
    "?, ?, ?, ?, ?)"
)


def audit_insert(record: CallbackRecord) -> Statement:
    """The statement that stores one audit row."""
    return _INSERT, _args(record, record.verdict)


def accepted_audit_insert(record: CallbackRecord, inbox_id: str) -> Statement:
    """The audit row of an accepted callback whose inbox insert (`inbox_id`) runs just before.

    Its verdict comes from that insert, in the same transaction: "accepted" if it stored
    the row, "duplicate" if the callback was stored before.
    """
    return _INSERT_AFTER_INBOX, _args(record, inbox_id)


def _args(record: CallbackRecord, verdict_arg: str) -> tuple[Any, ...]:
    return (
        new_id("cbk"), clean_text(record.provider), clean_text(record.route),
        dumps(record.headers), body_text(record.body), verdict_arg,
        clean_text(record.reason, 500) if record.reason else None, record.status_code,
        record.task_id, record.provider_task_id, now_ms(),
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
        "received_at": rfc3339(row["received_at"]),
    }
