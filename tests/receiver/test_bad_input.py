"""Inputs that used to reach a 500: vanished clients, slow bodies, non-ASCII digits."""

from __future__ import annotations

import logging

import pytest
from starlette.applications import Starlette

from dispatcher.compose import build_app
from receiver.app import create_app
from receiver.callbacks.callbacks_part import CallbacksPart
from receiver.settings import Settings
from tests.asgi_raw import raw_request
from tests.receiver.callback_helpers import FAST, KIE_KEY, add_task, count, kie_body, running
from tests.support import ADMIN_TOKEN, app_client

SUPERSCRIPT_TWO = b"\xb2"  # latin-1 "²": str.isdigit() says yes, int() says no
LIST_ROUTES = ["/api/tasks", "/api/events", "/api/callbacks", "/api/subscribers",
               "/api/deliveries"]  # fmt: skip


def _callbacks_app(settings: Settings) -> Starlette:
    return create_app(settings, [CallbacksPart(FAST)])


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_client_that_disconnects_mid_body_is_audited_quietly(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = _callbacks_app(settings.replace(kie_webhook_key=KIE_KEY, workers=False))
    async with app_client(app):
        rt = app.state.runtime
        await add_task(rt.db)
        part = {"type": "http.request", "body": b'{"data": {"taskId"', "more_body": True}
        await raw_request(app, "/callbacks/kie", [part])
        rows = await rt.db.fetchall("SELECT verdict, reason, body_size FROM callbacks")
    assert [r["verdict"] for r in rows] == ["disconnected"]
    assert "disconnected after 18 bytes" in rows[0]["reason"]
    assert _errors(caplog) == []


async def test_a_vanished_client_on_the_admin_api_leaves_no_traceback(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_app(settings.replace(workers=False))
    auth = [(b"authorization", f"Bearer {ADMIN_TOKEN}".encode())]
    async with app_client(app):
        part = {"type": "http.request", "body": b'{"provider": ', "more_body": True}
        for path in ("/api/tasks", "/api/subscribers"):
            sent = await raw_request(app, path, [part], headers=auth)
            assert [m.get("status") for m in sent if m["type"] == "http.response.start"] != [500]
    assert _errors(caplog) == []


async def test_a_body_that_never_arrives_is_408_and_audited(settings: Settings) -> None:
    cfg = settings.replace(kie_webhook_key=KIE_KEY, workers=False, body_read_timeout_s=0.2)
    app = _callbacks_app(cfg)
    async with app_client(app):
        rt = app.state.runtime
        part = {"type": "http.request", "body": b'{"da', "more_body": True}
        sent = await raw_request(app, "/callbacks/kie", [part], hang=True)
        assert sent[0]["status"] == 408
        row = await rt.db.fetchone("SELECT verdict FROM callbacks")
        assert row is not None and row["verdict"] == "timeout"
        auth = [(b"authorization", f"Bearer {ADMIN_TOKEN}".encode())]
        sent = await raw_request(app, "/api/subscribers", [part], hang=True, headers=auth)
        assert sent[0]["status"] in (404, 408)  # no fan-out part here: 404 before reading


@pytest.mark.parametrize("header", ["x-webhook-timestamp", "webhook-timestamp"])
async def test_a_non_ascii_digit_timestamp_is_401_and_audited(
    settings: Settings, header: str
) -> None:
    sources = {"sw": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="}
    cfg = settings.replace(kie_webhook_key=KIE_KEY, workers=False, standard_webhook_sources=sources)
    async with running(cfg) as (client, rt):
        await add_task(rt.db)
        headers = {header: SUPERSCRIPT_TWO, "x-webhook-signature": b"AAAA",
                   "webhook-id": b"msg_1", "webhook-signature": b"v1,AAAA"}  # fmt: skip
        body = kie_body("task_abc") if header.startswith("x-") else {"data": {"task_id": "t"}}
        path = "/callbacks/kie" if header.startswith("x-") else "/callbacks/sw"
        answer = await client.post(path, json=body, headers=headers)
        assert answer.status_code == 401, answer.text
        assert await count(rt.db, "callbacks", "WHERE verdict = 'unauthorized'") == 1
        bad_length = {"content-length": SUPERSCRIPT_TWO}
        answer = await client.post("/callbacks/kie", content=b"{}", headers=bad_length)
        assert answer.status_code == 400


@pytest.mark.parametrize("limit", ["²", "٣", "1" * 5000, "-1", "0", "501", " 5"])
async def test_a_bad_limit_is_422_on_every_list_route(settings: Settings, limit: str) -> None:
    async with app_client(build_app(settings.replace(workers=False))) as client:
        for route in LIST_ROUTES:
            answer = await client.get(route, params={"limit": limit})
            assert answer.status_code == 422, (route, answer.text[:200])
            assert answer.json()["error"]["field"] == "limit"
        answer = await client.post("/api/tick", params={"rounds": limit})
        assert answer.status_code == 422 and answer.json()["error"]["field"] == "rounds"
