"""`POST /api/subscribers/{id}/test`: one signed `taskhook.test` event, answered at once."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.fanout.fanout import Fanout
from receiver.slot import Slot, bind


async def test_subscriber(live: Slot[Fanout], request: Request) -> Response:
    """-> 200 `{event_id, delivered, status_code, latency_ms, body_head, error}`."""
    result = await live.get().probe(request.path_params["id"])
    return JSONResponse(result.to_api())


def routes(live: Slot[Fanout]) -> list[BaseRoute]:
    """The test-event route."""
    return [Route("/api/subscribers/{id}/test", bind(test_subscriber, live), methods=["POST"])]
