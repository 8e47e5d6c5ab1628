"""The checks an inbound callback passes before it is accepted, in order.

source known (404) -> token names a task of that provider (404) -> body within the
limit (413) -> JSON object (400) -> names the task (400) -> signature (401) -> the
token's own task (400) -> stored in the inbox with its audit row, committed (by the group
writer, shared with concurrent callbacks) before the 200 (also for a repeat, which the
insert itself recognises: no read before the write).
"""

from __future__ import annotations

import re

from starlette.requests import Request

from receiver.callback_tokens import hash_token, token_matches
from receiver.callbacks.body import parse_json_object, read_limited
from receiver.callbacks.redact import redact_bytes, redact_text
from receiver.callbacks.source import Source
from receiver.db import Executor, Row
from receiver.errors import BadRequest, NotFound
from receiver.runtime import Runtime
from receiver.store.callback_audit import CallbackRecord
from receiver.store.inbox import InboxItem
from receiver.store.tasks import find_by_token_hash

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
NOT_FOUND_MESSAGE = "no callback endpoint at this URL"


async def task_for_token(db: Executor, provider: str, token: str) -> Row:
    """The task of `provider` whose callback token is `token`; NotFound otherwise."""
    if not _TOKEN.fullmatch(token):
        raise NotFound(NOT_FOUND_MESSAGE)
    row = await find_by_token_hash(db, provider, hash_token(token))
    if row is None or not token_matches(token, row["callback_token_hash"]):
        raise NotFound(NOT_FOUND_MESSAGE)
    return row


async def accept(
    runtime: Runtime,
    request: Request,
    source: Source,
    token: str | None,
    record: CallbackRecord,
) -> InboxItem:
    """Run every check on `request`; the caller stores the item. Fills `record` as it learns.

    The caller's insert tells a repeat (same provider, task and state) from a new callback.
    """
    task = await task_for_token(runtime.db, source.name, token) if token is not None else None
    if task is not None:
        record.task_id = task["id"]
    raw = await read_limited(request, runtime.settings.max_body_bytes)
    record.body = redact_bytes(raw, token)
    text, body = parse_json_object(raw)
    provider_task_id = source.task_id(body)
    if provider_task_id is None:
        raise BadRequest(
            f"the body does not name the task: {source.task_id_field} is missing "
            "or not a valid id (1-200 printable characters, no spaces)"
        )
    record.provider_task_id = provider_task_id
    signed = task is None or source.signature_on_token_route
    if signed:
        source.authenticate(request.headers, raw, provider_task_id)
    if task is not None:
        _check_same_task(task, provider_task_id, source)
    return InboxItem(
        provider=source.name,
        provider_task_id=provider_task_id,
        reported_status=source.parse(body).status,
        body=redact_text(text, token),
        signed=signed,
        task_id=task["id"] if task is not None else None,
    )


def _check_same_task(task: Row, provider_task_id: str, source: Source) -> None:
    known = task["provider_task_id"]
    if known is not None and known != provider_task_id:
        raise BadRequest(
            f"{source.task_id_field} does not name the task this callback URL was issued for"
        )
