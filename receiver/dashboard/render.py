"""HTML rendering: Jinja2 with autoescaping on, plus the formatting filters the pages use."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from receiver.clock import now_ms
from receiver.dashboard.csrf import csrf_token

TEMPLATES = Path(__file__).parent / "templates"
EXCERPT_CHARS = 200
MAX_SHOWN_CHARS = 16_000
_SECRET_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "api-key", "apikey", "key")


@functools.cache
def environment() -> Environment:
    """The template environment (autoescape on for every template)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when, age=age, pretty=pretty, excerpt=excerpt, safe_url=safe_url,
        css_token=css_token, headers_shown=headers_shown, jsonish=jsonish,
    )  # fmt: skip
    return env


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render `template` with the session's CSRF token and the current path in context."""
    session = request.scope.get("state", {}).get("dashboard_session")
    context.setdefault("csrf", csrf_token(session) if session else "")
    context.setdefault("logged_in", session is not None)
    context.setdefault("path", request.url.path)
    context.setdefault("here", _here(request))
    context.setdefault("now", now_ms())
    html = environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def _here(request: Request) -> str:
    """This page's path and query (for `next=`), without the `partial` switch."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "partial"])
    return request.url.path + (f"?{query}" if query else "")


def when(ms: int | None) -> str:
    """Epoch milliseconds as `2026-01-02 03:04:05Z` (empty for None)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def age(ms: int | None, now: int | None = None) -> str:
    """A short age: `42s`, `7m`, `3h`, `2d`."""
    if ms is None:
        return ""
    seconds = max(0, ((now if now is not None else now_ms()) - ms) // 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def jsonish(text: str | None) -> Any:
    """Parse a JSON column; text that is not JSON comes back as it is."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return text


def pretty(value: Any) -> str:
    """Indented JSON for objects, the text itself for strings (cut at MAX_SHOWN_CHARS)."""
    if isinstance(value, str):
        parsed = jsonish(value)
        value = parsed if not isinstance(parsed, str) else value
    text = value if isinstance(value, str) else _indented(value)
    if len(text) > MAX_SHOWN_CHARS:
        return text[:MAX_SHOWN_CHARS] + f"\n... ({len(text) - MAX_SHOWN_CHARS} more characters)"
    return text


def _indented(value: Any) -> str:
    """Indented JSON, or a note when the value nests too deeply to print."""
    try:
        return json.dumps(value, indent=2, ensure_ascii=False)
    except (RecursionError, ValueError):
        return "(a JSON value nested too deeply to show)"


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """The first `limit` characters of a value as text."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_url(value: Any) -> str | None:
    """The URL when it is http(s) (so it may go into href/src), else None."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def css_token(value: Any) -> str:
    """A value reduced to [a-z0-9-] for use in a class name."""
    text = str(value or "none").lower()
    return "".join(c if c.isalnum() else "-" for c in text)[:40]


def headers_shown(text: str | None) -> list[tuple[str, str]]:
    """Stored headers as (name, value) pairs, hiding any value that looks like a secret."""
    parsed = jsonish(text)
    pairs: list[tuple[str, str]]
    if isinstance(parsed, dict):
        pairs = [(str(k), str(v)) for k, v in parsed.items()]
    elif isinstance(parsed, list):
        pairs = [
            (str(p[0]), str(p[1])) for p in parsed if isinstance(p, list | tuple) and len(p) == 2
        ]
    else:
        return [("(raw)", excerpt(parsed, MAX_SHOWN_CHARS))]
    return [(k, _redacted(k, v)) for k, v in pairs]


def _redacted(name: str, value: str) -> str:
    lowered = name.lower()
    if any(word in lowered for word in _SECRET_HEADER_WORDS) and "redacted" not in value.lower():
        return "[redacted]"
    return excerpt(value, 500)
