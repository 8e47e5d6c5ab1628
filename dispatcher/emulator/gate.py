"""What every provider route does first: count, apply a programmed fault, check the bearer."""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from dispatcher.emulator.context import emulator
from dispatcher.emulator.faults import Fault
from dispatcher.emulator.stats import Stats

MALFORMED_BODY = b'{"code": 200, "msg": "succ'
DEFAULT_MESSAGES = {
    400: "Bad request: the request parameters are malformed",
    401: "You do not have access permissions",
    402: "Credits insufficient: top up your account to continue",
    404: "Not found",
    422: "Validation error: the request parameters failed validation",
    429: "Rate limited: too many requests, please retry later",
    433: "Sub-key usage limit exceeded",
    451: "Failed to fetch the input file",
    455: "Service unavailable: the system is under maintenance",
    500: "Server error: an unexpected error occurred, please try again later",
    501: "Generation failed",
    502: "Bad gateway",
    503: "Service temporarily unavailable",
    505: "Feature disabled",
}


class Rejected(Exception):
    """A request the provider refuses (validation or lookup), in neutral words."""

    def __init__(self, message: str, *, status: int = 422, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param


class Dialect(Protocol):
    """How one provider words its errors."""

    name: str

    def error(self, http_status: int, code: int, message: str) -> Response:
        """An error answer: HTTP status `http_status`, provider code `code`."""
        ...

    def unauthorized(self) -> Response:
        """The answer to a missing or wrong bearer token."""
        ...


async def gate(
    request: Request, dialect: Dialect, operation: str, task_id: str | None = None
) -> Response | None:
    """Count the request; return a fault or 401 answer, or None to proceed normally."""
    emu = emulator(request)
    emu.stats.request(dialect.name, operation, task_id)
    fault = emu.faults.take(dialect.name, operation)
    if fault is not None:
        answer = await apply_fault(fault, dialect)
        if answer is not None:
            return answer
    if not authorized(request, emu.config.api_key):
        return dialect.unauthorized()
    if operation == "query":
        await _query_latency(emu.stats, emu.config.query_delay_s)
    return None


async def _query_latency(stats: Stats, delay_s: float) -> None:
    """Answer a read after `delay_s` (a realistic round trip), counting reads in flight."""
    stats.enter("query")
    try:
        await asyncio.sleep(delay_s)
    finally:
        stats.leave("query")


async def apply_fault(fault: Fault, dialect: Dialect) -> Response | None:
    """Hang, then answer as programmed (None: answer normally)."""
    if fault.hang_s > 0:
        await asyncio.sleep(fault.hang_s)
    if fault.malformed:
        answer = Response(MALFORMED_BODY, fault.status or 200, media_type="application/json")
    elif fault.status is not None:
        answer = dialect.error(fault.status, fault.status, _message(fault, fault.status))
    elif fault.in_body_code is not None:
        answer = dialect.error(200, fault.in_body_code, _message(fault, fault.in_body_code))
    else:
        return None
    if fault.retry_after is not None:
        answer.headers["Retry-After"] = _seconds(fault.retry_after)
    return answer


def _message(fault: Fault, code: int) -> str:
    return fault.message or DEFAULT_MESSAGES.get(code, f"Error {code}")


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def authorized(request: Request, api_key: str | None) -> bool:
    """A `Bearer` token is present (and equals `api_key` when one is configured)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return False
    return api_key is None or hmac.compare_digest(token.encode(), api_key.encode())


async def read_json(request: Request) -> Any:
    """The request body as JSON; Rejected(400) when it is not JSON."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Rejected("the request body is not valid JSON", status=400) from None
