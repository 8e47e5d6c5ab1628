"""Per-task callback tokens never reach storage: redacted out of callback bodies.

kie echoes the create request (with `callBackUrl`, token included) in `recordInfo` and
in callback bodies, so a stored body would show live tokens at `/api/callbacks` and
`/ui/callbacks`. Every `/callbacks/<name>/<token>` path in a body (also JSON-escaped
`\\/` or URL-encoded `%2F` slashes) keeps its name and loses its token, and the token
of the request's own URL is removed wherever else it appears.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"
_SLASH = r"(?:/|\\/|%2[Ff])"
_CALLBACK_PATH = re.compile(
    rf"(callbacks{_SLASH}[A-Za-z0-9_.-]{{1,64}}{_SLASH})[A-Za-z0-9_-]{{16,128}}"
)
_CALLBACK_PATH_BYTES = re.compile(_CALLBACK_PATH.pattern.encode())


def redact_text(text: str, token: str | None = None) -> str:
    """`text` with every callback token replaced by REDACTED."""
    text = _CALLBACK_PATH.sub(lambda m: m.group(1) + REDACTED, text)
    if token:
        text = text.replace(token, REDACTED)
    return text


def redact_bytes(raw: bytes, token: str | None = None) -> bytes:
    """The same, on a raw body (kept as bytes: it may not be UTF-8)."""
    raw = _CALLBACK_PATH_BYTES.sub(lambda m: m.group(1) + REDACTED.encode(), raw)
    if token:
        raw = raw.replace(token.encode(), REDACTED.encode())
    return raw
