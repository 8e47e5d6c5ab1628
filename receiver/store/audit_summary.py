"""What is kept of a refused callback: a small summary whose size no sender controls.

A refused request (400/401/404/413) reaches the audit table before (or instead of)
authentication, so anyone can send one. Its row keeps the verdict and reason, the body's
size and SHA-256 digest, the first BODY_PREFIX_BYTES of the body, and at most
MAX_HEADERS headers of at most HEADER_VALUE_CHARS characters (HEADERS_MAX_BYTES of JSON in
all, as UTF-8): at most ROW_MAX_BYTES per refused callback, whatever was sent.
"""

from __future__ import annotations

import hashlib

from receiver.store.jsonutil import dumps

BODY_PREFIX_BYTES = 256
MAX_HEADERS = 12
HEADER_NAME_CHARS = 40
HEADER_VALUE_CHARS = 120
HEADERS_MAX_BYTES = 2048
REASON_CHARS = 200
ROW_OVERHEAD_BYTES = 200  # ids, route, provider, times: a fixed allowance per row
ROW_MAX_BYTES = 4096


def body_digest(body: bytes | None) -> tuple[int | None, str | None]:
    """The body's size in bytes and hex SHA-256 (None, None when no body was read)."""
    if body is None:
        return None, None
    return len(body), hashlib.sha256(body).hexdigest()


def body_prefix(body: bytes | None) -> bytes | None:
    """The first BODY_PREFIX_BYTES of the body."""
    return None if body is None else body[:BODY_PREFIX_BYTES]


def summary_headers(headers: dict[str, str]) -> dict[str, str]:
    """At most MAX_HEADERS headers, each cut short, HEADERS_MAX_BYTES of JSON in all."""
    out: dict[str, str] = {}
    for name, value in list(headers.items())[:MAX_HEADERS]:
        cut = value if len(value) <= HEADER_VALUE_CHARS else value[:HEADER_VALUE_CHARS] + "…"
        out[name[:HEADER_NAME_CHARS]] = cut
        if len(dumps(out).encode("utf-8", "replace")) > HEADERS_MAX_BYTES - 40:  # "(omitted)"
            del out[name[:HEADER_NAME_CHARS]]
            break
    if len(headers) > len(out):
        out["(omitted)"] = f"{len(headers) - len(out)} more headers"
    return out


def stored_bytes(headers_json: str, body: str | None, reason: str | None) -> int:
    """What one audit row costs, as counted against the audit table's cap."""
    texts = (headers_json, body or "", reason or "")
    return ROW_OVERHEAD_BYTES + sum(len(t.encode("utf-8", "replace")) for t in texts)
