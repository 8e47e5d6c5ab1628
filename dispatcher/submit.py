"""Submitting a task: validate, store (durably, unsent), then send.

1. The submission is checked completely (`parse_submission`): an invalid one raises
   InvalidInput (API 422, CLI exit 2) and nothing is stored or sent.
2. An `Idempotency-Key` seen before returns the task it created, with no second provider
   request; the same key with a different body is a 409 Conflict.
3. The task is stored FIRST, as `submitted` with no provider_task_id: once stored, it is
   never lost (the submitter sends whatever is stored but unsent, also after a crash).
4. It is then sent once right away; if the provider is unavailable, the submitter
   retries it in the background with backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from dispatcher.dispatch import Dispatch
from dispatcher.per_task import check_webhook, store_options
from dispatcher.submission import Submission, parse_submission
from dispatcher.submitter import SEND_LEASE_S, Submitter
from receiver.db import Row
from receiver.errors import BadRequest, Conflict, DuplicateKey
from receiver.store.jsonutil import loads
from receiver.store.tasks import NewTask, add_history, find_by_idempotency_key, insert_task

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY_CHARS = 255


@dataclass(frozen=True)
class Accepted:
    """The task a submission created (or, for a repeated Idempotency-Key, found)."""

    task: Row
    created: bool


async def submit(
    dispatch: Dispatch,
    submitter: Submitter,
    body: Any,
    *,
    idempotency_key: str | None = None,
) -> Accepted:
    """Validate, store, send; see the module docstring."""
    key = _check_key(idempotency_key)
    submission = parse_submission(body, dispatch.adapters)
    await check_webhook(dispatch.fanout, submission)
    if key is not None:
        earlier = await _earlier(dispatch, key, submission)
        if earlier is not None:
            return Accepted(earlier, created=False)
    try:
        row = await _store(dispatch, submission, key)
    except DuplicateKey:
        earlier = await _earlier(dispatch, key or "", submission)
        if earlier is None:
            raise
        return Accepted(earlier, created=False)
    sent = await submitter.send_within(row["id"], dispatch.settings.submit_wait_s)
    return Accepted(sent or row, created=True)


def _check_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not key.isprintable():
        raise BadRequest(
            f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY_CHARS} printable characters"
        )
    return key


async def _earlier(dispatch: Dispatch, key: str, submission: Submission) -> Row | None:
    row = await find_by_idempotency_key(dispatch.runtime.db, key)
    if row is None:
        return None
    stored = Submission(row["provider"], row["model"], loads(row["input"]) or {},
                        loads(row["then_spec"]), loads(row.get("metadata")),
                        row.get("webhook"))  # fmt: skip
    if stored.fingerprint() != submission.fingerprint():
        raise Conflict(
            f"Idempotency-Key {key!r} was already used for task {row['id']} with a different "
            "body: send the same body to get that task again, or use a new key"
        )
    return row


async def _store(dispatch: Dispatch, submission: Submission, key: str | None) -> Row:
    now = dispatch.clock.now_ms()
    adapter = dispatch.adapter(submission.provider)
    settings = dispatch.provider_settings(submission.provider)
    callback = dispatch.settings.public_url is not None and adapter.supports_callback(
        submission.model, settings
    )
    task = NewTask(
        provider=submission.provider,
        model=submission.model,
        input=submission.input,
        mode="callback" if callback else "poll",
        # not due for the background submitter while the API path sends it itself
        send_next_at=now + int(SEND_LEASE_S * 1000),
        deadline_at=now + int(dispatch.settings.task_deadline_s * 1000),
        idempotency_key=key,
        then_spec=submission.then,
    )
    async with dispatch.runtime.db.transaction() as tx:
        row = await insert_task(tx, task)
        row = await store_options(tx, dispatch.fanout, row, submission)
        await add_history(tx, row["id"], "stored", {"idempotency_key": key is not None})
    log.info("task %s stored (%s %s)", row["id"], submission.provider, submission.model,
             extra={"task_id": row["id"], "provider": submission.provider})  # fmt: skip
    return row
