"""Reading an inbound callback body: bounded in size, strict JSON, storable text."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import ClientDisconnect, Request

from receiver.digits import ascii_int
from receiver.errors import BadRequest, TaskhookError
from receiver.jsondepth import MAX_JSON_DEPTH, too_deep

# A surrogate code point can enter a decoded body only through a \uD800-\uDFFF escape
# (UTF-8 text cannot encode one), so a body without such an escape needs no deeper check.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class BodyTooLarge(TaskhookError):
    """The request body is over the configured limit (413)."""

    status_code = 413
    code = "payload_too_large"


class ClientGone(TaskhookError):
    """The client disconnected before its whole body arrived (audited; nobody reads the 499)."""

    status_code = 499
    code = "client_disconnected"


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"the body is over the {limit} byte limit")


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, at most `limit` bytes; 413 as soon as it is known to be larger.

    A Content-Length over the limit is refused before reading anything; a body sent
    without one (chunked) is refused as soon as the bytes read pass the limit, and the
    rest is never read.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        size = ascii_int(declared.strip(), max_digits=20)
        if size is None:
            raise BadRequest("Content-Length is not a whole number")
        if size > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientGone(f"the client disconnected after {size} bytes of the body") from None
    return b"".join(chunks)


def parse_json_object(raw: bytes) -> tuple[str, dict[str, Any]]:
    """The body as UTF-8 text and as a JSON object; 400 saying what is wrong otherwise."""
    if not raw.strip():
        raise BadRequest("the body is empty: send the callback as a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text: send JSON") from None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest(f"the body must be a JSON object, not a JSON {type(value).__name__}")
    if too_deep(value):
        raise BadRequest(f"the body nests more than {MAX_JSON_DEPTH} levels deep")
    if _SURROGATE_ESCAPE.search(text):  # only such an escape can make one: skip the rest
        _check_storable(value)
    return text, value


def _check_storable(value: dict[str, Any]) -> None:
    """Refuse strings no database can keep (unpaired surrogates from `\\ud800` escapes)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError, ValueError):
        raise BadRequest("the body contains unpaired UTF-16 surrogate escapes") from None
