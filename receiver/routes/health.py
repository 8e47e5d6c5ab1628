"""`/healthz` (the process is alive) and `/readyz` (database reachable, schema current)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.db import latest_version, schema_version
from receiver.errors import StoreError
from receiver.runtime import Runtime
from receiver.store.readiness import check_writable


async def healthz(request: Request) -> Response:
    """Always 200 while the process serves requests."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when the database answers, takes a write, and has the schema this code expects."""
    runtime: Runtime = request.app.state.runtime
    try:
        version = await schema_version(runtime.db)
    except StoreError as exc:
        return JSONResponse({"status": "unavailable", "reason": exc.message}, 503)
    if version != latest_version():
        reason = f"schema version {version}, expected {latest_version()}"
        return JSONResponse({"status": "unavailable", "reason": reason}, 503)
    try:
        await check_writable(runtime.db)
    except StoreError as exc:
        reason = f"the database cannot be written: {exc.message}"
        return JSONResponse({"status": "unavailable", "reason": reason}, 503)
    return JSONResponse({"status": "ready", "schema_version": version})


def routes() -> list[BaseRoute]:
    """The health routes."""
    return [Route("/healthz", healthz), Route("/readyz", readyz)]
