"""`POST /api/tick`: one bounded pass of background work, for an external scheduler.

Protected by the admin token like the rest of `/api`. Use it with background workers
off (`TASKHOOK_WORKERS=0`, `taskhook serve --no-workers`); with workers on it is
harmless (rows are claimed with leases) but unnecessary.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.digits import ascii_int
from receiver.errors import InvalidInput
from receiver.runtime import Runtime
from receiver.tick import DEFAULT_MAX_ROUNDS, MAX_ROUNDS_LIMIT, run_tick


def _rounds(request: Request) -> int:
    raw = request.query_params.get("rounds")
    if raw is None:
        return DEFAULT_MAX_ROUNDS
    rounds = ascii_int(raw, max_digits=len(str(MAX_ROUNDS_LIMIT)))
    if rounds is None or not 1 <= rounds <= MAX_ROUNDS_LIMIT:
        raise InvalidInput(
            f"rounds={raw[:40]!r}: use a whole number from 1 to {MAX_ROUNDS_LIMIT}", field="rounds"
        )
    return rounds


async def tick(request: Request) -> Response:
    """Run the workers once (or a few times while they find work); answer the counts."""
    runtime: Runtime = request.app.state.runtime
    result = await run_tick(runtime.runner, max_rounds=_rounds(request))
    return JSONResponse(result.to_api())


def routes() -> list[BaseRoute]:
    """The tick route."""
    return [Route("/api/tick", tick, methods=["POST"])]
