"""JSON responses and the error handlers that make every failure a JSON body."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from receiver.errors import TaskhookError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """`{"error": {"code", "message", ...}}` with `status`."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status, headers)


async def on_taskhook_error(request: Request, exc: Exception) -> Response:
    """Our own errors carry their status, code and message."""
    if not isinstance(exc, TaskhookError):  # pragma: no cover - routing guarantees it
        return await on_unexpected(request, exc)
    if exc.status_code >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    return JSONResponse(exc.to_body(), exc.status_code)


async def on_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's HTTP errors (404 route, 405 method) as JSON."""
    if not isinstance(exc, HTTPException):  # pragma: no cover - routing guarantees it
        return await on_unexpected(request, exc)
    code = _HTTP_CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc.detail))


async def on_client_gone(request: Request, exc: Exception) -> Response:
    """The client went away mid-request: nobody will read an answer, so no noise either."""
    log.debug("%s %s: the client disconnected", request.method, request.url.path)
    return Response(status_code=499)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """Anything else: logged with its traceback, answered with a generic 500 body."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "internal error; see the server log")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    TaskhookError: on_taskhook_error,
    HTTPException: on_http_error,
    ClientDisconnect: on_client_gone,
    Exception: on_unexpected,
}
