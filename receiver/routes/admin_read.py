"""The read side of the admin API: tasks and events."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.clock import rfc3339
from receiver.errors import NotFound
from receiver.routes.params import filters, page_args, page_response
from receiver.runtime import Runtime
from receiver.store.events import event_to_api, get_event, list_events
from receiver.store.jsonutil import loads
from receiver.store.tasks import get_task, history, list_tasks, task_to_api


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def tasks_index(request: Request) -> Response:
    """`GET /api/tasks?status=&provider=&model=&limit=&cursor=`."""
    limit, cursor = page_args(request)
    wanted = filters(request, ("status", "provider", "model", "parent_id"))
    page = await list_tasks(_runtime(request).db, wanted, limit=limit, cursor=cursor)
    return page_response(page, [task_to_api(row) for row in page.rows])


async def task_detail(request: Request) -> Response:
    """`GET /api/tasks/{id}` with its timeline."""
    db = _runtime(request).db
    task_id = request.path_params["id"]
    row = await get_task(db, task_id)
    if row is None:
        raise NotFound(f"no task {task_id!r}")
    body = task_to_api(row)
    body["history"] = [
        {"kind": h["kind"], "detail": loads(h["detail"]), "at": rfc3339(h["at"])}
        for h in await history(db, task_id)
    ]
    return JSONResponse(body)


async def events_index(request: Request) -> Response:
    """`GET /api/events?task_id=&type=&limit=&cursor=`."""
    limit, cursor = page_args(request)
    wanted = filters(request, ("task_id", "type"))
    page = await list_events(_runtime(request).db, wanted, limit=limit, cursor=cursor)
    return page_response(page, [event_to_api(row) for row in page.rows])


async def event_detail(request: Request) -> Response:
    """`GET /api/events/{id}`."""
    row = await get_event(_runtime(request).db, request.path_params["id"])
    if row is None:
        raise NotFound(f"no event {request.path_params['id']!r}")
    return JSONResponse(event_to_api(row))


def routes() -> list[BaseRoute]:
    """The read-only admin routes."""
    return [
        Route("/api/tasks", tasks_index, methods=["GET"]),
        Route("/api/tasks/{id}", task_detail, methods=["GET"]),
        Route("/api/events", events_index, methods=["GET"]),
        Route("/api/events/{id}", event_detail, methods=["GET"]),
    ]
