"""Logging in (the admin token, compared in constant time) and out."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.auth_throttle import auth_throttle, count_failure, locked_out
from receiver.dashboard.csrf import check_csrf, read_form
from receiver.dashboard.render import render
from receiver.dashboard.session import (
    clear_session_cookie,
    current_session,
    start_session,
    token_matches,
)
from receiver.dashboard.session_store import revoke_session
from receiver.throttle import client_address

log = logging.getLogger(__name__)
HOME = "/ui/"


def safe_next(value: str | None) -> str:
    """A redirect target inside the dashboard; anything else becomes the overview."""
    if not value or not value.startswith("/ui") or "//" in value or "\\" in value:
        return HOME
    if len(value) > 3 and value[3] not in "/?":
        return HOME
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return HOME
    return value


async def login_form(request: Request) -> Response:
    """`GET /ui/login`: the form (or straight on, when already logged in)."""
    target = safe_next(request.query_params.get("next"))
    if await current_session(request) is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "login.html", next=target, error=None, logged_in=False)


async def login_submit(request: Request) -> Response:
    """`POST /ui/login`: compare the token, then set the session cookie."""
    form = await read_form(request)
    target = safe_next(form.get("next"))
    expected = request.app.state.runtime.settings.admin_token
    if not expected:
        error = "This server has no admin token: set TASKHOOK_ADMIN_TOKEN and restart."
        return render(request, "login.html", status_code=503, next=target, error=error)
    throttle = auth_throttle(request.app)
    wait_s = locked_out(throttle, _client(request))
    if wait_s is not None:
        error = f"Too many wrong tokens from your address: try again in {wait_s} s."
        answer = render(request, "login.html", status_code=429, next=target, error=error)
        answer.headers["Retry-After"] = str(wait_s)
        return answer
    if not token_matches(form.get("token", "").strip(), expected):
        log.warning("dashboard login refused: wrong admin token from %s", _client(request))
        count_failure(throttle, _client(request), "dashboard login")
        error = "That is not the admin token (TASKHOOK_ADMIN_TOKEN)."
        return render(request, "login.html", status_code=401, next=target, error=error)
    response = RedirectResponse(target, status_code=303)
    await start_session(request, response, expected)
    return response


async def logout(request: Request) -> Response:
    """`POST /ui/logout` (CSRF-checked): end the session on the server, forget the cookie."""
    session = request.scope["state"]["dashboard_session"]
    check_csrf(await read_form(request), session)
    await revoke_session(request.app.state.runtime.db, session.nonce)
    response = RedirectResponse("/ui/login", status_code=303)
    clear_session_cookie(response, request)
    return response


def _client(request: Request) -> str:
    return client_address(request.client)


def routes() -> list[BaseRoute]:
    """Login and logout."""
    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
