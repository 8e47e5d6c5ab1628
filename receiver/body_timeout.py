"""A bound on how long a request's body may take to arrive (slow clients hold a connection).

A plain ASGI middleware: from the moment the app starts on a request, its body must have
arrived within `timeout_s`; a read still waiting then raises BodyReadTimeout, which the
error handlers answer with 408 (and the callback routes audit). Once the body is complete,
`receive` is passed through untouched (streaming responses wait on it for a disconnect).
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from receiver.errors import TaskhookError


class BodyReadTimeout(TaskhookError):
    """The client did not send its whole body in time (408)."""

    status_code = 408
    code = "request_timeout"


class BodyTimeoutMiddleware:
    """Bounds the time a request body may take to arrive."""

    def __init__(self, app: ASGIApp, *, timeout_s: float) -> None:
        self.app = app
        self._timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self._timeout_s
        await self.app(scope, _bounded(receive, deadline, self._timeout_s), send)


def _bounded(receive: Receive, deadline: float, timeout_s: float) -> Receive:
    complete = False

    async def bounded() -> Message:
        nonlocal complete
        if complete:
            return await receive()
        try:
            async with asyncio.timeout_at(deadline):
                message = await receive()
        except TimeoutError:
            raise BodyReadTimeout(
                f"the request body did not arrive within {timeout_s:g} s"
            ) from None
        if message["type"] != "http.request" or not message.get("more_body", False):
            complete = True
        return message

    return bounded
