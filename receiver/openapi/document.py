"""`GET /openapi.json`: the admin API described from the app's own routing table.

Paths and methods are read from the routes the app serves; what each operation takes
and answers comes from `operations.OPERATIONS`; bodies from `schemas.COMPONENTS`; the
event payloads are described as OpenAPI 3.1 `webhooks`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.openapi.operations import OPERATIONS, QUERY_SCHEMAS, Operation
from receiver.openapi.schemas import COMPONENTS, STR, Schema, event_payload, obj, ref, webhook_types

ERROR_TEXT = {400: "Malformed request", 401: "No bearer token", 403: "Wrong bearer token",
              404: "Not found", 409: "Conflict", 413: "Body too large",
              422: "Invalid input (error.field names it)", 500: "Configuration error",
              503: "Store or service unavailable"}  # fmt: skip
COMMON_ERRORS = (400, 401, 403, 413, 422)
EXTRA_COMPONENTS: dict[str, Schema] = {
    "ReplayOne": obj({}, {"subscriber_id": STR}),
    "ReplayDead": obj({}, {"since": {"type": "string", "format": "date-time"}}),
}
_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[tuple[str, str]]:
    """(method, path) of every routed `/api` operation (HEAD implied by GET is left out)."""
    for route in routes:
        if isinstance(route, Route) and route.path.startswith("/api/"):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, route.path


def build_document(routes: Iterable[BaseRoute], server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the routes given (undescribed ones are left out)."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path in api_routes(routes):
        operation = OPERATIONS.get((method, path))
        if operation is not None:
            paths.setdefault(path, {})[method.lower()] = _operation(method, path, operation)
    return {
        "openapi": "3.1.0",
        "info": {"title": "taskhook admin API", "version": _version(),
                 "description": "Errors are always {\"error\": {\"code\", \"message\"}}."},
        "servers": [{"url": server_url}] if server_url else [],
        "security": [{"bearer": []}],
        "paths": paths,
        "webhooks": {kind: _webhook(kind) for kind in webhook_types()},
        "components": {
            "schemas": {**COMPONENTS, **EXTRA_COMPONENTS},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "TASKHOOK_ADMIN_TOKEN"}},
        },
    }  # fmt: skip


def _operation(method: str, path: str, op: Operation) -> dict[str, Any]:
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
              for name in _PARAM.findall(path)]  # fmt: skip
    params += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": QUERY_SCHEMAS.get(name, {"type": "string"}),
        }
        for name in op.query
    ]
    params += [{"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
               for name in op.headers]  # fmt: skip
    op_id = method.lower() + re.sub(r"[^a-z_]", "", path.replace("/", "_").replace("-", "_"))
    found: dict[str, Any] = {
        "operationId": op_id,
        "summary": op.summary, "tags": [op.tag], "parameters": params,
        "responses": _responses(path, op),
    }  # fmt: skip
    if op.body:
        found["requestBody"] = {"required": op.body_required, "content": {
            "application/json": {"schema": ref(op.body)}}}  # fmt: skip
    return found


def _responses(path: str, op: Operation) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": op.summary}
    if op.answer:
        ok["content"] = {"application/json": {"schema": ref(op.answer)}}
    answers = {str(op.ok): ok}
    codes = set(COMMON_ERRORS) | set(op.errors) | ({404} if "{" in path else set())
    for code in sorted(codes):
        answers[str(code)] = {
            "description": ERROR_TEXT[code],
            "content": {"application/json": {"schema": ref("Error")}},
        }
    return answers


def _webhook(kind: str) -> dict[str, Any]:
    return {"post": {
        "summary": f"{kind}: signed per Standard Webhooks (webhook-id = the event id)",
        "requestBody": {"content": {"application/json": {"schema": event_payload(kind)}}},
        "responses": {"2XX": {"description": "accepted; anything else is retried"}},
    }}  # fmt: skip


def _version() -> str:
    try:
        return version("taskhook")
    except PackageNotFoundError:
        return "0"


async def openapi_json(request: Request) -> Response:
    """`GET /openapi.json` (public, like the code it describes)."""
    base = str(request.base_url).rstrip("/")
    return JSONResponse(build_document(request.app.routes, base))


def routes() -> list[BaseRoute]:
    """The description route."""
    return [Route("/openapi.json", openapi_json, methods=["GET"])]
