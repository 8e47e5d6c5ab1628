"""Dashboard sessions: a signed, expiring cookie derived from the admin token.

The cookie holds `v1.<expires_s>.<nonce>.<signature>`, signed with a key derived from the
admin token (changing the token ends every session). The nonce makes each login distinct,
seeds that session's CSRF token, and names the session's row on the server
(`session_store.py`): logout deletes the row, so a copied cookie dies with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from receiver.dashboard.session_store import add_session, session_alive
from receiver.digits import ascii_int

COOKIE_NAME = "taskhook_session"
COOKIE_PATH = "/ui"
SESSION_TTL_S = 12 * 3600
_VERSION = "v1"


@dataclass(frozen=True)
class Session:
    """A verified dashboard session."""

    nonce: str
    expires_s: int
    key: bytes


def session_key(admin_token: str) -> bytes:
    """The signing key of dashboard sessions (never the token itself)."""
    return hmac.new(admin_token.encode(), b"taskhook dashboard session v1", hashlib.sha256).digest()


def sign(key: bytes, message: str) -> str:
    """URL-safe base64 HMAC-SHA256 of `message`."""
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of two strings."""
    return hmac.compare_digest(given.encode(), expected.encode())


def mint(admin_token: str, *, now_s: float | None = None) -> tuple[str, Session]:
    """A fresh signed session value, valid for SESSION_TTL_S, and the session it stands for."""
    expires = int(now_s if now_s is not None else time.time()) + SESSION_TTL_S
    nonce = secrets.token_urlsafe(16)
    body = f"{_VERSION}.{expires}.{nonce}"
    key = session_key(admin_token)
    return f"{body}.{sign(key, body)}", Session(nonce=nonce, expires_s=expires, key=key)


def new_cookie_value(admin_token: str, *, now_s: float | None = None) -> str:
    """A fresh signed session value (not yet a session: `start_session` records one)."""
    return mint(admin_token, now_s=now_s)[0]


def verify_cookie_value(
    value: str, admin_token: str | None, *, now_s: float | None = None
) -> Session | None:
    """The session a cookie value stands for, or None if forged, malformed or expired."""
    if not admin_token or not value:
        return None
    parts = value.split(".")
    expires = ascii_int(parts[1], max_digits=12) if len(parts) == 4 else None
    if expires is None or parts[0] != _VERSION:
        return None
    key = session_key(admin_token)
    if not token_matches(parts[3], sign(key, ".".join(parts[:3]))):
        return None
    if expires <= (now_s if now_s is not None else time.time()):
        return None
    return Session(nonce=parts[2], expires_s=expires, key=key)


async def current_session(request: Request) -> Session | None:
    """The request's verified session, if its cookie carries one still alive on the server."""
    runtime = request.app.state.runtime
    found = verify_cookie_value(request.cookies.get(COOKIE_NAME, ""), runtime.settings.admin_token)
    if found is None or not await session_alive(runtime.db, found.nonce):
        return None
    return found


async def start_session(request: Request, response: Response, admin_token: str) -> None:
    """A new session: its row on the server, its cookie on `response`."""
    value, session = mint(admin_token)
    await add_session(request.app.state.runtime.db, session.nonce, expires_s=session.expires_s)
    set_session_cookie(response, request, value)


def _secure(request: Request) -> bool:
    """Secure cookies when served over https, or when the public URL is https."""
    public_url = request.app.state.runtime.settings.public_url or ""
    return request.url.scheme == "https" or public_url.startswith("https://")


def set_session_cookie(response: Response, request: Request, value: str) -> None:
    """HttpOnly, SameSite=Strict, Secure when served over https, scoped to /ui."""
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=SESSION_TTL_S,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    """Tell the browser to forget the session."""
    response.delete_cookie(
        COOKIE_NAME,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
