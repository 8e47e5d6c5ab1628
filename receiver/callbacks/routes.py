"""`POST /callbacks/{provider}/{token}` and `POST /callbacks/{provider}`.

Every request ends as one audit row and one metric count; an accepted one also as an
inbox row committed before the 2xx. Errors are JSON; authentication failures say only
"callback authentication failed" (the log and the audit row say which check failed).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.callbacks.intake import NOT_FOUND_MESSAGE, Accepted, accept
from receiver.callbacks.sources import Source
from receiver.errors import NotFound, StoreError, TaskhookError, VerificationFailed
from receiver.runtime import Runtime
from receiver.store.audit import CallbackRecord, audit_insert, redact_headers
from receiver.store.inbox import inbox_insert

log = logging.getLogger(__name__)

WORKER_NAME = "callbacks"
SOURCES_SERVICE = "callbacks.sources"
STORE_FAILED = "the callback could not be stored; retry later"
_VERDICTS = {400: "malformed", 401: "unauthorized", 404: "not_found", 413: "too_large"}


def _sources(runtime: Runtime) -> dict[str, Source]:
    sources: dict[str, Source] = runtime.services.get(SOURCES_SERVICE, {})
    return sources


async def receive_callback(request: Request) -> Response:
    """Check, store and acknowledge one callback; never a 500 for any input."""
    runtime: Runtime = request.app.state.runtime
    name = request.path_params["provider"]
    token = request.path_params.get("token")
    source = _sources(runtime).get(name)
    route = f"/callbacks/{name}" + ("/{token}" if token is not None else "")
    record = CallbackRecord(
        provider=name if source else "(unknown)",
        route=route if source else "/callbacks/(unknown)",
        headers=redact_headers(request.headers.items()),
    )
    accepted: Accepted | None = None
    try:
        if source is None:
            raise NotFound(NOT_FOUND_MESSAGE)
        accepted = await accept(runtime, request, source, token, record)
    except TaskhookError as exc:
        response = _rejected(record, exc)
    else:
        response = _accepted(runtime, record, accepted)
    if not await _store(runtime, record, accepted):
        record.verdict = "unavailable"
        response = JSONResponse(StoreError(STORE_FAILED).to_body(), 503)
    elif accepted is not None and accepted.new and runtime.settings.workers:
        runtime.runner.wake(WORKER_NAME)
    runtime.metrics.callbacks.labels(record.provider, record.verdict).inc()
    return response


def _accepted(runtime: Runtime, record: CallbackRecord, accepted: Accepted) -> Response:
    record.verdict = "accepted" if accepted.new else "duplicate"
    record.status_code = 200
    body: dict[str, Any] = {"status": record.verdict}
    if not accepted.new:
        return JSONResponse(body)
    if runtime.settings.workers:
        return JSONResponse(body)
    return JSONResponse(body, background=BackgroundTask(runtime.runner.tick_soon))


def _rejected(record: CallbackRecord, exc: TaskhookError) -> Response:
    record.status_code = exc.status_code
    record.verdict = _VERDICTS.get(exc.status_code, "unavailable")
    record.reason = exc.reason if isinstance(exc, VerificationFailed) else exc.message
    if isinstance(exc, StoreError):
        log.error("callback to %s not stored: %s", record.route, exc.message)
    else:
        log.info("callback to %s refused (%s): %s", record.route, exc.status_code, record.reason)
    return JSONResponse(exc.to_body(), exc.status_code)


async def _store(runtime: Runtime, record: CallbackRecord, accepted: Accepted | None) -> bool:
    """Commit the audit row (and the inbox row of a new callback) before answering.

    False when an accepted callback could not be stored: it must not be acknowledged.
    """
    statements = [audit_insert(record)]
    if accepted is not None and accepted.new:
        statements.append(inbox_insert(accepted.item))
    try:
        await runtime.group_writer().write(statements)
    except StoreError as exc:
        log.error("callback to %s not stored: %s", record.route, exc.message)
        return accepted is None
    return True


def routes() -> list[BaseRoute]:
    """The callback routes."""
    return [
        Route("/callbacks/{provider}", receive_callback, methods=["POST"]),
        Route("/callbacks/{provider}/{token}", receive_callback, methods=["POST"]),
    ]
