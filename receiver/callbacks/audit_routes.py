"""`GET /api/callbacks` and `GET /api/callbacks/{id}`: the callback audit log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.errors import InvalidInput, NotFound
from receiver.routes.params import filters, page_args, page_response
from receiver.runtime import Runtime
from receiver.store.callback_audit import VERDICTS, callback_to_api, get_callback, list_callbacks

FILTERS = ("provider", "verdict", "task_id", "provider_task_id")


async def callbacks_index(request: Request) -> Response:
    """`GET /api/callbacks?provider=&verdict=&task_id=&provider_task_id=&limit=&cursor=`."""
    runtime: Runtime = request.app.state.runtime
    limit, cursor = page_args(request)
    wanted = filters(request, FILTERS)
    verdict = wanted.get("verdict")
    if verdict is not None and verdict not in VERDICTS:
        raise InvalidInput(f"verdict must be one of {', '.join(VERDICTS)}", field="verdict")
    page = await list_callbacks(runtime.db, wanted, limit=limit, cursor=cursor)
    return page_response(page, [callback_to_api(row) for row in page.rows])


async def callback_detail(request: Request) -> Response:
    """`GET /api/callbacks/{id}`."""
    runtime: Runtime = request.app.state.runtime
    row = await get_callback(runtime.db, request.path_params["id"])
    if row is None:
        raise NotFound(f"no callback {request.path_params['id']!r}")
    return JSONResponse(callback_to_api(row))


def routes() -> list[BaseRoute]:
    """The audit routes (under /api, so the admin token is required)."""
    return [
        Route("/api/callbacks", callbacks_index, methods=["GET"]),
        Route("/api/callbacks/{id}", callback_detail, methods=["GET"]),
    ]
