"""`/api/subscribers`: add, list, show, change (pause/resume, filter), remove, rotate-secret."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.errors import BadRequest
from receiver.fanout.fanout import Fanout
from receiver.fanout.subscriptions import Subscriptions
from receiver.jsondepth import loads_bounded
from receiver.known_fields import reject_unknown_fields
from receiver.routes.params import filters, page_args, page_response
from receiver.slot import Slot, bind
from receiver.store.subscribers import list_subscribers, subscriber_to_api

MAX_BODY_BYTES = 64 * 1024


Live = Slot[Fanout]


def _subs(live: Live) -> Subscriptions:
    return live.get().require()


async def json_body(request: Request, *, optional: bool = False) -> Any:
    """The request's JSON body; 400 saying so when it is not JSON."""
    raw = await request.body()
    if not raw.strip() and optional:
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        return loads_bounded(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest('the body must be JSON, e.g. {"url": "https://..."}') from None


async def create(live: Live, request: Request) -> Response:
    """`POST /api/subscribers` {url, kind, filter?, headers?} -> 201 with the secret (once)."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest('the body must be an object: {"url": ..., "kind": ...}')
    reject_unknown_fields(body, ("url", "kind", "filter", "headers"))
    answer = await _subs(live).create(
        body.get("url"), body.get("kind", "webhook"), body.get("filter"), body.get("headers")
    )
    return JSONResponse(answer, 201)


async def index(live: Live, request: Request) -> Response:
    """`GET /api/subscribers?kind=` (never secrets)."""
    limit, cursor = page_args(request)
    db = _subs(live).db
    page = await list_subscribers(db, filters(request, ("kind",)), limit=limit, cursor=cursor)
    return page_response(page, [subscriber_to_api(row) for row in page.rows])


async def detail(live: Live, request: Request) -> Response:
    """`GET /api/subscribers/{id}`."""
    row = await _subs(live).get(request.path_params["id"])
    return JSONResponse(subscriber_to_api(row))


async def change(live: Live, request: Request) -> Response:
    """`PATCH /api/subscribers/{id}` {paused?, enabled?, filter?, headers?}."""
    body = await json_body(request)
    return JSONResponse(await _subs(live).update(request.path_params["id"], body))


async def remove(live: Live, request: Request) -> Response:
    """`DELETE /api/subscribers/{id}` -> 204."""
    await _subs(live).remove(request.path_params["id"])
    return Response(status_code=204)


async def rotate_secret(live: Live, request: Request) -> Response:
    """`POST /api/subscribers/{id}/rotate-secret` -> the new secret (shown once)."""
    return JSONResponse(await _subs(live).rotate_secret(request.path_params["id"]))


def routes(live: Live) -> list[BaseRoute]:
    """The subscriber routes."""
    return [
        Route("/api/subscribers", bind(create, live), methods=["POST"]),
        Route("/api/subscribers", bind(index, live), methods=["GET"]),
        Route("/api/subscribers/{id}", bind(detail, live), methods=["GET"]),
        Route("/api/subscribers/{id}", bind(change, live), methods=["PATCH"]),
        Route("/api/subscribers/{id}", bind(remove, live), methods=["DELETE"]),
        Route("/api/subscribers/{id}/rotate-secret", bind(rotate_secret, live), methods=["POST"]),
    ]
