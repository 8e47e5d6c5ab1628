"""Bearer-token protection for the admin API (a plain ASGI middleware)."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from receiver.auth_throttle import auth_throttle, count_failure, locked_out
from receiver.responses import error_response
from receiver.throttle import client_address

TokenGetter = Callable[[], str | None]


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of two tokens."""
    return hmac.compare_digest(given.encode(), expected.encode())


class AdminAuthMiddleware:
    """Requires `Authorization: Bearer <token>` under the protected path prefixes.

    401 when no token is given, 403 when a wrong one is, 429 (with Retry-After) while the
    client's address is locked out after too many wrong ones (`auth_throttle.py`).
    """

    def __init__(self, app: ASGIApp, *, token: TokenGetter, prefixes: Sequence[str] = ("/api",)):
        self.app = app
        self._token = token
        self._prefixes = tuple(prefixes)

    def _protected(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self._prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        throttle = auth_throttle(scope.get("app"))
        address = client_address(scope.get("client"))
        wait_s = locked_out(throttle, address)
        header = Headers(scope=scope).get("authorization", "")
        scheme, _, given = header.partition(" ")
        expected = self._token()
        if wait_s is not None:
            response = error_response(
                429, "rate_limited", f"too many wrong admin tokens: retry in {wait_s} s"
            )
            response.headers["Retry-After"] = str(wait_s)
        elif scheme.lower() != "bearer" or not given.strip():
            response = error_response(
                401, "unauthorized", "send Authorization: Bearer <TASKHOOK_ADMIN_TOKEN>"
            )
        elif expected is None or not token_matches(given.strip(), expected):
            count_failure(throttle, address, "api bearer")
            response = error_response(403, "forbidden", "the bearer token is not valid")
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
