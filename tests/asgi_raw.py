"""One raw ASGI request, for what an HTTP client library will not do: vanish mid-body."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message


async def raw_request(
    app: ASGIApp,
    path: str,
    chunks: list[Message],
    *,
    hang: bool = False,
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str = "POST",
) -> list[Message]:
    """Send `chunks`, then a disconnect (or, with `hang`, nothing ever again); what was sent."""
    pending = list(chunks)
    sent: list[Message] = []

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if hang:
            await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("203.0.113.9", 5000), "server": ("testserver", 80),
        "headers": headers or [(b"content-type", b"application/json")], "state": {},
    }  # fmt: skip
    await app(scope, receive, send)
    return sent


def split_body(body: bytes, cut: int) -> list[Message]:
    """`body` sent in two parts, the connection lost after the first `cut` bytes."""
    return [{"type": "http.request", "body": body[:cut], "more_body": True}]
