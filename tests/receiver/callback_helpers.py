"""Helpers for callback tests: an app with the callbacks part, tasks, and signed posts.

Signatures are made here with the test's own hmac/base64 calls, never production code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from receiver.app import create_app
from receiver.callback_tokens import new_token
from receiver.callbacks.callbacks_part import CallbacksPart
from receiver.callbacks.confirmer import Confirmer
from receiver.callbacks.processor import InboxOptions
from receiver.db import Executor, Row
from receiver.provider_state import ProviderState
from receiver.runtime import Part, Runtime
from receiver.settings import Settings
from receiver.store.tasks import NewTask, insert_task
from tests.support import app_client

KIE_KEY = "kie-webhook-key-0123456789"
FAST = InboxOptions(retry_base_s=0.05, retry_max_s=0.2, lease_s=0.3, confirm_timeout_s=2.0)


class FakeConfirmer:
    """A confirmer for one provider answering from `answer`; records the ids it was asked."""

    def __init__(self, answer: Callable[[str], ProviderState], provider: str = "kie") -> None:
        self.answer = answer
        self.provider = provider
        self.calls: list[str] = []

    def confirms(self, provider: str) -> bool:
        return provider == self.provider

    async def confirm(self, provider: str, provider_task_id: str) -> ProviderState:
        self.calls.append(provider_task_id)
        return self.answer(provider_task_id)


@asynccontextmanager
async def running(
    settings: Settings,
    *extra: Part,
    options: InboxOptions = FAST,
    confirmer: Confirmer | None = None,
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The app (callbacks part + `extra`) in-process; yields a client and its runtime."""
    app = create_app(settings, [CallbacksPart(options, confirmer=confirmer), *extra])
    async with app_client(app) as client:
        yield client, app.state.runtime


async def add_task(
    db: Executor, provider: str = "kie", provider_task_id: str | None = "task_abc"
) -> tuple[Row, str]:
    """A dispatched task waiting for its callback, and its callback token."""
    token, hashed = new_token()
    row = await insert_task(
        db,
        NewTask(
            provider=provider,
            model="sora-2-characters",
            input={"character_prompt": "a fox"},
            mode="callback",
            status="running",
            provider_task_id=provider_task_id,
            callback_token_hash=hashed,
        ),
    )
    return row, token


def kie_headers(key: str, task_id: str, ts: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if ts is None else ts)
    digest = hmac.new(key.encode(), f"{task_id}.{stamp}".encode(), hashlib.sha256).digest()
    return {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": base64.b64encode(digest).decode()}


def kie_body(task_id: str, state: str = "success", character: str = "char_body") -> dict[str, Any]:
    ok = state == "success"
    data = {
        "taskId": task_id,
        "model": "sora-2-characters",
        "state": state,
        "resultJson": json.dumps({"character_id": character}) if ok else "",
        "failCode": None if ok else "501",
        "failMsg": None if ok else "generation failed",
        "costTime": 12,
    }
    return {"code": 200 if ok else 501, "msg": "success" if ok else "failed", "data": data}


async def post_kie(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    *,
    key: str | None = KIE_KEY,
    token: str | None = None,
    ts: int | None = None,
    sign_for: str | None = None,
) -> httpx.Response:
    """POST a kie callback, signed (with `key`) for `sign_for` or the body's task id."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers.update(kie_headers(key, sign_for or body["data"]["taskId"], ts))
    path = "/callbacks/kie" + (f"/{token}" if token else "")
    return await client.post(path, content=json.dumps(body).encode(), headers=headers)


async def count(db: Executor, table: str, where: str = "", *args: Any) -> int:
    row = await db.fetchone(f"SELECT COUNT(*) AS n FROM {table} {where}", *args)
    return int(row["n"]) if row else 0


async def events(db: Executor) -> list[dict[str, Any]]:
    rows = await db.fetchall("SELECT payload FROM events ORDER BY id")
    return [json.loads(r["payload"]) for r in rows]
