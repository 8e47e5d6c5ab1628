"""`POST /callbacks/{provider}/{token}` and `POST /callbacks/{provider}`.

Every request ends as one audit row and one metric count; an accepted one also as an
inbox row committed before the 2xx. Errors are JSON; authentication failures say only
"callback authentication failed" (the log and the audit row say which check failed).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.callbacks.audit_cap import AuditCapWorker
from receiver.callbacks.intake import NOT_FOUND_MESSAGE, Learned, Refused, accept
from receiver.callbacks.processor import InboxWorker
from receiver.callbacks.refusals import THROTTLED, refusal_allowed, throttled_response
from receiver.errors import NotFound, StoreError, TaskhookError, VerificationFailed
from receiver.providers.source import Source
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
    """Authenticate, store, acknowledge one callback; never a 500 for any input."""
    runtime: Runtime = request.app.state.runtime
    receiving = live.get()
    name, token = request.path_params["provider"], request.path_params.get("token")
    source = receiving.sources.get(name)
    seen = _seen(request, name, token, known=source is not None)
    try:
        if source is None:
            raise Refused(NotFound(NOT_FOUND_MESSAGE), Learned())
        accepted = await accept(runtime, request, source, token)
    except Refused as refused:
        learned = _with(seen, refused.learned)
        record, response = await _refuse(runtime, receiving, request, learned, refused.error)
    else:
        record = await _store(runtime, _with(seen, accepted.learned), accepted.item)
        response = _acknowledge(runtime, record)
    runtime.metrics.callbacks.labels(record.provider, record.verdict).inc()
    return response


def _seen(request: Request, name: str, token: str | None, *, known: bool) -> CallbackRecord:
    """The audit row as far as the URL and headers tell (an unknown name is not echoed)."""
    route = f"/callbacks/{name}" + ("/{token}" if token is not None else "")
    return CallbackRecord(
        provider=name if known else "(unknown)",
        route=route if known else "/callbacks/(unknown)",
        headers=redact_headers(request.headers.items()),
    )


def _with(record: CallbackRecord, learned: Learned) -> CallbackRecord:
    return replace(record, task_id=learned.task_id, body=learned.body,
                   provider_task_id=learned.provider_task_id)  # fmt: skip


async def _store(runtime: Runtime, record: CallbackRecord, item: InboxItem) -> CallbackRecord:
    """Commit the inbox row with its audit row; the record says what became of it.

    One statement pair in a shared (group-committed) transaction: the inbox insert tells
    a new callback from a repeat, and the audit row takes its verdict from that insert.
    """
    record = replace(record, status_code=200)
    inbox_id = new_inbox_id()
    statements = [inbox_insert(item, inbox_id), accepted_audit_insert(record, inbox_id)]
    try:
        counts = await runtime.group_writer().write_counted(statements)
    except StoreError as exc:
        log.error("callback to %s not stored: %s", record.route, exc.message)
        return replace(record, status_code=503, verdict="unavailable")
    return replace(record, verdict="accepted" if counts[0] > 0 else "duplicate")


def _acknowledge(runtime: Runtime, record: CallbackRecord) -> Response:
    """200 once stored (processing starts now, or after the answer without workers); 503 if not."""
    if record.status_code != 200:
        return JSONResponse(StoreError(STORE_FAILED).to_body(), 503)
    body = {"status": record.verdict}
    if record.verdict != "accepted":
        return JSONResponse(body)
    if runtime.settings.workers:
        runtime.runner.wake(InboxWorker.name)
        return JSONResponse(body)
    return JSONResponse(body, background=BackgroundTask(runtime.runner.tick_soon))


async def _refuse(
    runtime: Runtime,
    receiving: Receiving,
    request: Request,
    record: CallbackRecord,
    exc: TaskhookError,
) -> tuple[CallbackRecord, Response]:
    """The answer to a refused callback, audited; 429 and no audit row past its budget."""
    if not refusal_allowed(runtime, request):
        throttled = replace(record, status_code=429, verdict=THROTTLED)
        return throttled, throttled_response(runtime, request)
    record = _refused(record, exc)
    await _store_audit(runtime, receiving.audit_cap, record)
    return record, _refusal(record, exc)


def _refused(record: CallbackRecord, exc: TaskhookError) -> CallbackRecord:
    """The audit row of a refused callback: its status, verdict and reason."""
    reason = exc.reason if isinstance(exc, VerificationFailed) else exc.message
    verdict = _VERDICTS.get(exc.status_code, "unavailable")
    return replace(record, status_code=exc.status_code, verdict=verdict, reason=reason)


def _refusal(record: CallbackRecord, exc: TaskhookError) -> Response:
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
