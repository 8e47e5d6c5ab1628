"""Refused callbacks cost bounded work: per-address throttling of what gets audited.

Each refused callback stores a small summary row (see `store/audit_summary.py`). An
address that keeps sending refused callbacks spends its budget
(`settings.callback_refusal_limit`); past it, refusals are answered 429 with
`Retry-After` and nothing is stored (the `/metrics` counter still counts them, as
verdict `throttled`). Accepted callbacks are never throttled.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from receiver.runtime import Runtime
from receiver.throttle import client_address

log = logging.getLogger(__name__)

THROTTLED = "throttled"


def refusal_allowed(runtime: Runtime, request: Request) -> bool:
    """Spend one refusal of the client's budget; False when it has none left."""
    return runtime.throttles.callback_refusals.spend(client_address(request.client))


def throttled_response(runtime: Runtime, request: Request) -> Response:
    """429 for a refused callback over its address's budget (no audit row)."""
    address = client_address(request.client)
    throttle = runtime.throttles.callback_refusals
    retry = throttle.retry_after_s(address)
    if throttle.first_refusal(address):
        log.warning("too many refused callbacks from %s: answering 429 without an audit row "
                    "for about %d s", address, retry)  # fmt: skip
    message = "too many refused callbacks from this address: slow down"
    body = {"error": {"code": "rate_limited", "message": message}}
    return JSONResponse(body, 429, headers={"Retry-After": str(retry)})
