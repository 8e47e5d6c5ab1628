"""`/api/deliveries` (with attempts), replay of one event, replay of dead deliveries."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.clock import parse_time
from receiver.errors import InvalidInput
from receiver.fanout.fanout import Fanout
from receiver.fanout.subscriber_routes import json_body
from receiver.known_fields import reject_unknown_fields
from receiver.routes.params import filters, page_args, page_response
from receiver.runtime import Runtime
from receiver.slot import Slot, bind
from receiver.store.deliveries import (
    attempts_of,
    delivery_to_api,
    list_deliveries,
    replay_dead,
    replay_event,
)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def index(request: Request) -> Response:
    """`GET /api/deliveries?state=&subscriber_id=&event_id=&limit=&cursor=`."""
    limit, cursor = page_args(request)
    db = _runtime(request).db
    wanted = filters(request, ("state", "subscriber_id", "event_id"))
    page = await list_deliveries(db, wanted, limit=limit, cursor=cursor)
    attempts = await attempts_of(db, [row["id"] for row in page.rows])
    return page_response(page, [delivery_to_api(row, attempts[row["id"]]) for row in page.rows])


async def replay_one(live: Slot[Fanout], request: Request) -> Response:
    """`POST /api/events/{id}/replay` {subscriber_id?} -> 202 with the new deliveries."""
    body = await json_body(request, optional=True)
    if isinstance(body, dict):
        reject_unknown_fields(body, ("subscriber_id",))
    sub_id = body.get("subscriber_id") if isinstance(body, dict) else None
    if sub_id is not None and not isinstance(sub_id, str):
        raise InvalidInput("subscriber_id must be a subscriber id string", field="subscriber_id")
    runtime = _runtime(request)
    queued = await replay_event(runtime.db, request.path_params["id"], sub_id)
    live.get().wake()
    return JSONResponse({"queued": queued}, 202)


async def replay_dead_route(live: Slot[Fanout], request: Request) -> Response:
    """`POST /api/deliveries/replay-dead` {since?} -> 202 with the new deliveries."""
    body = await json_body(request, optional=True)
    if isinstance(body, dict):
        reject_unknown_fields(body, ("since",))
    since = body.get("since") if isinstance(body, dict) else None
    since_ms = None
    if since is not None:
        try:
            since_ms = parse_time(str(since))
        except ValueError:
            raise InvalidInput(
                "since must be an RFC 3339 time such as 2026-11-23T18:00:00Z", field="since"
            ) from None
    runtime = _runtime(request)
    queued = await replay_dead(runtime.db, since_ms)
    live.get().wake()
    return JSONResponse({"queued": queued}, 202)


def routes(live: Slot[Fanout]) -> list[BaseRoute]:
    """The delivery routes."""
    return [
        Route("/api/deliveries", index, methods=["GET"]),
        Route("/api/deliveries/replay-dead", bind(replay_dead_route, live), methods=["POST"]),
        Route("/api/events/{id}/replay", bind(replay_one, live), methods=["POST"]),
    ]
