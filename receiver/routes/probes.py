"""`POST /api/subscribers/{id}/test`: one signed `taskhook.test` event, answered at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.errors import ConfigError
from receiver.fanout.probe import ProbeResult, send_test_event
from receiver.fanout.sinks import build_sinks
from receiver.runtime import Runtime

if TYPE_CHECKING:
    from receiver.fanout.plugin import Fanout


async def probe_subscriber(runtime: Runtime, sub_id: str) -> ProbeResult:
    """Send the test event to one subscriber of this app (shared by the API and dashboard)."""
    fanout: Fanout = runtime.services["fanout"]
    subs = fanout.require()
    row = await subs.get(sub_id)
    if fanout.client is None:  # pragma: no cover - set whenever subscriptions are
        raise ConfigError("fan-out is not running: set TASKHOOK_SECRET_KEY and restart")
    timeout_s = runtime.settings.delivery_timeout_s
    return await send_test_event(row, subs.box, build_sinks(), fanout.client, timeout_s)


async def test_subscriber(request: Request) -> Response:
    """-> 200 `{event_id, delivered, status_code, latency_ms, body_head, error}`."""
    runtime: Runtime = request.app.state.runtime
    result = await probe_subscriber(runtime, request.path_params["id"])
    return JSONResponse(result.to_api())


def routes() -> list[BaseRoute]:
    """The test-event route."""
    return [Route("/api/subscribers/{id}/test", test_subscriber, methods=["POST"])]
