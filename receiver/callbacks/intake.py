"""The checks an inbound callback passes before it is accepted, in order.

source known (404) -> token names a task of that provider (404) -> body within the
limit (413) -> JSON object (400) -> names the task (400) -> signature (401) -> the
token's own task (400). `accept()` returns what passed (`Accepted`) or raises `Refused`
with what it learned; `routes.py` then stores the inbox row with its audit row, committed
(by the group writer, shared with concurrent callbacks) before the 200 (also for a repeat,
which the insert itself recognises: no read before the write).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request

from receiver.callback_tokens import hash_token, token_matches
from receiver.callbacks.body import parse_json_object, read_limited
from receiver.callbacks.redact import redact_bytes, redact_text
from receiver.db import Executor, Row
from receiver.errors import BadRequest, NotFound, TaskhookError
from receiver.providers.source import Source
from receiver.runtime import Runtime
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


@dataclass(frozen=True)
class Learned:
    """What the checks found out about a request: kept in its audit row either way."""

    task_id: str | None = None
    body: bytes | None = None  # as received, the callback token redacted
    provider_task_id: str | None = None


class Refused(Exception):
    """A check failed: the error to answer with, and what was learned before it failed."""

    def __init__(self, error: TaskhookError, learned: Learned) -> None:
        super().__init__(error.message)
        self.error = error
        self.learned = learned


@dataclass(frozen=True)
class Accepted:
    """A callback that passed every check: the inbox row to store, and what was learned."""

    item: InboxItem
    learned: Learned


async def accept(runtime: Runtime, request: Request, source: Source, token: str | None) -> Accepted:
    """Run every check on `request`, in the order above; Refused when one fails.

    The body is parsed here, once: the inbox row carries the state it reports, and the
    caller's insert tells a repeat (same provider, task and state) from a new callback.
    """
    learned = Learned()
    try:
        task = await task_for_token(runtime.db, source.name, token) if token is not None else None
        learned = replace(learned, task_id=task["id"] if task is not None else None)
        raw = await read_limited(request, runtime.settings.max_body_bytes)
        learned = replace(learned, body=redact_bytes(raw, token))
        text, body = parse_json_object(raw)
        provider_task_id = _named_task(source, body)
        learned = replace(learned, provider_task_id=provider_task_id)
        signed = _authenticate(request, source, task, raw, provider_task_id)
        state = source.parse(body)
    except TaskhookError as exc:
        raise Refused(exc, learned) from exc
    item = InboxItem(
        provider=source.name,
        provider_task_id=provider_task_id,
        status=state.status,
        state=redact_text(state.to_json(), token),
        body=redact_text(text, token),
        signed=signed,
        task_id=learned.task_id,
    )
    return Accepted(item, learned)


def _named_task(source: Source, body: dict[str, Any]) -> str:
    provider_task_id = source.task_id(body)
    if provider_task_id is None:
        raise BadRequest(
            f"the body does not name the task: {source.task_id_field} is missing "
            "or not a valid id (1-200 printable characters, no spaces)"
        )
    return provider_task_id


def _authenticate(
    request: Request, source: Source, task: Row | None, raw: bytes, provider_task_id: str
) -> bool:
    """Check the signature where one is required; whether the request was signed."""
    signed = task is None or source.signature_on_token_route
    if signed:
        source.authenticate(request.headers, raw, provider_task_id)
    if task is not None:
        _check_same_task(task, provider_task_id, source)
    return signed


def _check_same_task(task: Row, provider_task_id: str, source: Source) -> None:
    known = task["provider_task_id"]
    if known is not None and known != provider_task_id:
        raise BadRequest(
            f"{source.task_id_field} does not name the task this callback URL was issued for"
        )
