"""`GET /media/{task_id}/{name}`: an archived file, by signed link, with range requests;
`GET /api/tasks/{task_id}/media`: a task's files with fresh links."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.media.archive import Archive
from receiver.media.links import LinkSigner, safe_part
from receiver.media.store import FileStore
from receiver.responses import error_response
from receiver.runtime import Runtime
from receiver.slot import Slot, bind
from receiver.store import media as records


async def serve_file(live: Slot[Archive], request: Request) -> Response:
    """The file, when the link's signature is valid and unexpired (403 otherwise)."""
    archive = live.peek()
    task_id, name = request.path_params["task_id"], request.path_params["name"]
    if archive is None or not isinstance(archive.store, FileStore):
        return error_response(404, "not_found", "this server keeps no media files")
    if not (safe_part(task_id) and safe_part(name)):
        return error_response(404, "not_found", "no such media file")
    signer: LinkSigner = archive.store.signer
    query = request.query_params
    if not signer.valid(task_id, name, query.get("expires", ""), query.get("signature", "")):
        return error_response(
            403, "forbidden", "the media link is invalid or expired: get a fresh one with "
            "`taskhook media TASK_ID`",
        )  # fmt: skip
    runtime: Runtime = request.app.state.runtime
    row = await records.get_file(runtime.db, task_id, name)
    if row is None or row["state"] != "archived":
        return error_response(404, "not_found", "the file is not (or no longer) archived")
    path = archive.store.path(row["storage_key"])
    return FileResponse(path, media_type=row["content_type"], filename=name,
                        content_disposition_type="inline")  # fmt: skip


async def task_media(live: Slot[Archive], request: Request) -> Response:
    """A task's files with fresh links."""
    archive = live.peek()
    if archive is None:
        return error_response(404, "not_found", "the media archive is off (TASKHOOK_MEDIA=off)")
    runtime: Runtime = request.app.state.runtime
    items = await archive.media_of(runtime.db, request.path_params["task_id"])
    return JSONResponse({"items": items})


def routes(live: Slot[Archive]) -> list[BaseRoute]:
    """The media routes."""
    return [
        Route("/media/{task_id}/{name}", bind(serve_file, live), methods=["GET", "HEAD"]),
        Route("/api/tasks/{task_id}/media", bind(task_media, live), methods=["GET"]),
    ]
