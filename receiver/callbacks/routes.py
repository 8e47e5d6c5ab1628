"""`POST /callbacks/{provider}/{token}` and `POST /callbacks/{provider}`.

Every request ends as one audit row and one metric count; an accepted one also as an
inbox row committed before the 2xx. Errors are JSON; authentication failures say only
"callback authentication failed" (the log and the audit row say which check failed).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.callbacks.audit_cap import AuditCapWorker
from receiver.callbacks.intake import NOT_FOUND_MESSAGE, accept
from receiver.callbacks.processor import InboxWorker
from receiver.callbacks.refusals import refusal_allowed, throttled_response
from receiver.callbacks.source import Source
from receiver.errors import NotFound, StoreError, TaskhookError, VerificationFailed
from receiver.runtime import Runtime
from receiver.slot import Slot, bind
from receiver.store.audit_summary import ROW_MAX_BYTES
from receiver.store.callback_audit import (
    CallbackRecord,
    accepted_audit_insert,
    audit_insert,
    redact_headers,
)
from receiver.store.inbox import InboxItem, inbox_insert, new_inbox_id

log = logging.getLogger(__name__)

STORE_FAILED = "the callback could not be stored; retry later"
_VERDICTS = {400: "malformed", 401: "unauthorized", 404: "not_found", 413: "too_large",
             408: "timeout", 499: "disconnected"}  # fmt: skip


@dataclass(frozen=True)
class Receiving:
    """What the callback routes use: the configured sources and the audit-size worker."""

    sources: Mapping[str, Source]
    audit_cap: AuditCapWorker


async def receive_callback(live: Slot[Receiving], request: Request) -> Response:
    """Check, store and acknowledge one callback; never a 500 for any input."""
    runtime: Runtime = request.app.state.runtime
    receiving = live.get()
    name = request.path_params["provider"]
    token = request.path_params.get("token")
    source = receiving.sources.get(name)
    route = f"/callbacks/{name}" + ("/{token}" if token is not None else "")
    record = CallbackRecord(
        provider=name if source else "(unknown)",
        route=route if source else "/callbacks/(unknown)",
        headers=redact_headers(request.headers.items()),
    )
    try:
        if source is None:
            raise NotFound(NOT_FOUND_MESSAGE)
        item = await accept(runtime, request, source, token, record)
    except TaskhookError as exc:
        if refusal_allowed(runtime, request):
            response = _rejected(record, exc)
            await _store_audit(runtime, receiving.audit_cap, record)
        else:
            response = throttled_response(runtime, request, record)
    else:
        response = await _store_accepted(runtime, record, item)
    runtime.metrics.callbacks.labels(record.provider, record.verdict).inc()
    return response


async def _store_accepted(runtime: Runtime, record: CallbackRecord, item: InboxItem) -> Response:
    """Commit the inbox row with its audit row, then 200; 503 when it could not be stored.

    One statement pair in a shared (group-committed) transaction: the inbox insert tells
    a new callback from a repeat, and the audit row takes its verdict from that insert.
    """
    record.status_code = 200
    inbox_id = new_inbox_id()
    statements = [inbox_insert(item, inbox_id), accepted_audit_insert(record, inbox_id)]
    try:
        counts = await runtime.group_writer().write_counted(statements)
    except StoreError as exc:
        log.error("callback to %s not stored: %s", record.route, exc.message)
        record.verdict = "unavailable"
        return JSONResponse(StoreError(STORE_FAILED).to_body(), 503)
    new = counts[0] > 0
    record.verdict = "accepted" if new else "duplicate"
    body = {"status": record.verdict}
    if not new:
        return JSONResponse(body)
    if runtime.settings.workers:
        runtime.runner.wake(InboxWorker.name)
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


async def _store_audit(runtime: Runtime, cap: AuditCapWorker, record: CallbackRecord) -> None:
    """Commit the audit row of a refused callback (the answer stands if that fails)."""
    try:
        await runtime.group_writer().write([audit_insert(record)])
    except StoreError as exc:
        log.error("audit row of a callback to %s not stored: %s", record.route, exc.message)
        return
    cap.note_written(ROW_MAX_BYTES)  # a refused callback's row is at most this


def routes(live: Slot[Receiving]) -> list[BaseRoute]:
    """The callback routes."""
    endpoint = bind(receive_callback, live)
    return [
        Route("/callbacks/{provider}", endpoint, methods=["POST"]),
        Route("/callbacks/{provider}/{token}", endpoint, methods=["POST"]),
    ]
