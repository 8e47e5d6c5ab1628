"""`GET /metrics`: Prometheus text format (this process's counters + the store's gauges).

Open by default, like most exporters: keep it on a private listen address, or set
`TASKHOOK_METRICS_TOKEN` and have the scraper send `Authorization: Bearer <token>`
(the admin token is accepted too).
"""

from __future__ import annotations

from prometheus_client import generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from receiver.auth import token_matches
from receiver.clock import now_ms
from receiver.metrics_gauges import read_gauges
from receiver.responses import error_response
from receiver.runtime import Runtime
from receiver.settings import Settings

# The classic text exposition format every Prometheus version (and most agents) reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


async def metrics(request: Request) -> Response:
    """Counters since this process started, then gauges read from the store now."""
    runtime: Runtime = request.app.state.runtime
    refused = _refusal(request, runtime.settings)
    if refused is not None:
        return refused
    gauges = await read_gauges(runtime.db, now_ms())
    body = generate_latest(runtime.metrics.registry) + generate_latest(gauges.registry())
    return Response(body, media_type=CONTENT_TYPE)


def _refusal(request: Request, settings: Settings) -> Response | None:
    """None when the scrape is allowed; else the 401/403 answer."""
    if settings.metrics_token is None:
        return None
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        return error_response(
            401, "unauthorized", "send Authorization: Bearer <TASKHOOK_METRICS_TOKEN>"
        )
    allowed = [t for t in (settings.metrics_token, settings.admin_token) if t]
    if not any(token_matches(given, token) for token in allowed):
        return error_response(403, "forbidden", "the bearer token is not valid")
    return None


def routes() -> list[BaseRoute]:
    """The metrics route."""
    return [Route("/metrics", metrics, methods=["GET"])]
