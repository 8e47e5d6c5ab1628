"""Result files the emulator serves, so archiving can be tested end to end:
`GET /_emulator/files/{provider}/{task_id}/{name}` answers deterministic bytes (the same
for the same path), `DELETE` forgets one (then 404, as when a provider's copy expired)."""

from __future__ import annotations

import hashlib
import mimetypes

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from dispatcher.emulator.context import FILES_BASE, emulator

FILE_BYTES = 96 * 1024
PREFIX = "/_emulator/files"


def file_bytes(path: str, size: int = FILE_BYTES) -> bytes:
    """The content served for `provider/task_id/name`."""
    block = hashlib.sha256(path.encode()).digest()
    return (block * (size // len(block) + 1))[:size]


class FilesBaseMiddleware:
    """Sets FILES_BASE for the request (and the callbacks it schedules)."""

    def __init__(self, app: ASGIApp, base_url: str | None = None) -> None:
        self.app = app
        self._base = base_url.rstrip("/") if base_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        base = self._base or str(Request(scope).base_url).rstrip("/")
        token = FILES_BASE.set(f"{base}{PREFIX}")
        try:
            await self.app(scope, receive, send)
        finally:
            FILES_BASE.reset(token)


def _path(request: Request) -> str:
    p = request.path_params
    return f"{p['provider']}/{p['task_id']}/{p['name']}"


async def get_file(request: Request) -> Response:
    """The file's bytes, or 404 once deleted."""
    path = _path(request)
    if path in emulator(request).deleted_files:
        return Response("the file has expired", 404)
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return Response(file_bytes(path), media_type=kind)


async def delete_file(request: Request) -> Response:
    """Forget a file, as a provider does after about 24 h."""
    emulator(request).deleted_files.add(_path(request))
    return Response(status_code=204)


def routes() -> list[BaseRoute]:
    """The file routes."""
    path = PREFIX + "/{provider}/{task_id}/{name}"
    return [Route(path, get_file, methods=["GET"]), Route(path, delete_file, methods=["DELETE"])]
