"""Query-string helpers shared by the list endpoints."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from receiver.store.pagination import Page, parse_limit


def filters(request: Request, names: Iterable[str]) -> dict[str, str]:
    """The named query parameters that were given."""
    return {name: request.query_params[name] for name in names if request.query_params.get(name)}


def page_args(request: Request) -> tuple[int, str | None]:
    """Validated `limit` and `cursor`."""
    return parse_limit(request.query_params.get("limit")), request.query_params.get("cursor")


def page_response(page: Page, items: list[dict[str, Any]]) -> JSONResponse:
    """`{"items": [...], "next_cursor": ...}`."""
    return JSONResponse({"items": items, "next_cursor": page.next_cursor})
