"""Cursor pagination over time-sortable ids (newest first)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from receiver.db import Executor, Row
from receiver.digits import ascii_int
from receiver.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page:
    """One page of rows and the cursor of the next page (None at the end)."""

    rows: list[Row]
    next_cursor: str | None


def parse_limit(raw: str | None) -> int:
    """Validate a `limit` query parameter (default 50, 1..500)."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    limit = ascii_int(raw, max_digits=len(str(MAX_LIMIT)))
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be a whole number from 1 to {MAX_LIMIT}, got {raw[:40]!r}",
            field="limit",
        )
    return limit


def encode_cursor(last_id: str) -> str:
    """An opaque cursor for the page after `last_id`."""
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The id a cursor stands for; InvalidInput when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.urlsafe_b64decode(padded.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "cursor is not valid: pass next_cursor as given", field="cursor"
        ) from None
    if not value or len(value) > 100:
        raise InvalidInput("cursor is not valid: pass next_cursor as given", field="cursor")
    return value


async def fetch_page(
    db: Executor,
    table: str,
    filters: Sequence[tuple[str, Any]],
    *,
    limit: int,
    cursor: str | None,
    columns: str = "*",
) -> Page:
    """Rows of `table` matching `column = value` filters, newest id first."""
    where = [f"{column} = ?" for column, _ in filters]
    args: list[Any] = [value for _, value in filters]
    if cursor:
        where.append("id < ?")
        args.append(decode_cursor(cursor))
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT {columns} FROM {table}{clause} ORDER BY id DESC LIMIT ?"
    rows = await db.fetchall(sql, *args, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1]["id"]) if more and rows else None)
