"""The dashboard's gate: a session cookie for every page but the login form, and strict headers.

A plain ASGI middleware on the `/ui` mount. Pages without a session redirect to the login
form; the live-update fetches (and POSTs) get 401 instead.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from receiver.dashboard.session import current_session

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; "
    "media-src 'self' https: http:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
PUBLIC_PATHS = ("/login",)
PUBLIC_PREFIXES = ("/static/",)


class DashboardGuard:
    """Adds the security headers to every `/ui` response; requires a session where it must."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        path = _inner_path(scope)
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        session = await current_session(request)
        if session is None:
            await _refuse(request)(scope, receive, send)
            return
        scope.setdefault("state", {})["dashboard_session"] = session
        await self.app(scope, receive, send)


def _inner_path(scope: Scope) -> str:
    """The path below the mount (`/login` for `/ui/login`)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _with_headers(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in SECURITY_HEADERS.items():
                headers[name] = value
        await send(message)

    return sender


def _refuse(request: Request) -> Response:
    """A page asks for the login form; a script's fetch or a form POST gets a plain 401."""
    if request.method == "GET" and "partial" not in request.query_params:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)
    return PlainTextResponse("log in to the dashboard first: /ui/login", status_code=401)
