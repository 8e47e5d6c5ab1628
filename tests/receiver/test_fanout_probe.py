"""Test events: one signed `taskhook.test`, answered at once, the retry queue untouched."""

from __future__ import annotations

import asyncio
import json

import pytest
from standardwebhooks.webhooks import Webhook
from starlette.responses import Response

from dispatcher.cli.main import run
from receiver.app import create_app
from receiver.dashboard.collaborators import Collaborators
from receiver.dashboard.dashboard_part import DashboardPart
from receiver.fanout.fanout_part import FanoutPart
from receiver.settings import Settings
from tests.receiver.callback_helpers import count
from tests.receiver.fanout_support import Recorder, fast_settings
from tests.support import ADMIN_TOKEN, app_client, live_server


async def test_api_sends_a_signed_test_event_and_reports_the_answer(settings: Settings) -> None:
    recorder = Recorder(lambda n, _r: Response("hello from the hook") if n == 0 else
                        Response("nope, go away", 401))  # fmt: skip
    app = create_app(fast_settings(settings), [FanoutPart()])
    async with live_server(recorder.app()) as base, app_client(app) as client:
        sub = (await client.post("/api/subscribers", json={
            "url": f"{base}/hook", "headers": {"X-Api-Key": "k1"},
        })).json()  # fmt: skip
        await client.patch(f"/api/subscribers/{sub['id']}", json={"paused": True})
        answer = await client.post(f"/api/subscribers/{sub['id']}/test")
        assert answer.status_code == 200
        body = answer.json()
        assert body["delivered"] is True and body["status_code"] == 200
        assert body["body_head"] == "hello from the hook" and body["latency_ms"] >= 0
        got = recorder.received[0]
        assert got.headers["webhook-id"] == body["event_id"] and got.headers["x-api-key"] == "k1"
        Webhook(sub["secret"]).verify(got.body, got.headers)
        event = json.loads(got.body)
        assert event["type"] == "taskhook.test" and event["data"]["subscriber_id"] == sub["id"]
        refused = (await client.post(f"/api/subscribers/{sub['id']}/test")).json()
        assert refused["delivered"] is False and refused["status_code"] == 401
        assert "nope, go away" in refused["error"] and refused["body_head"] == "nope, go away"
        db = app.state.runtime.db
        assert await count(db, "events") == 0 and await count(db, "deliveries") == 0
        missing = await client.post("/api/subscribers/sub_nope/test")
        assert missing.status_code == 404


async def test_unreachable_endpoint_is_reported_not_raised(settings: Settings) -> None:
    app = create_app(fast_settings(settings), [FanoutPart()])
    async with app_client(app) as client:
        sub = (await client.post("/api/subscribers", json={"url": "http://127.0.0.1:9/x"})).json()
        body = (await client.post(f"/api/subscribers/{sub['id']}/test")).json()
    assert body["delivered"] is False and body["status_code"] is None
    assert "Connect" in body["error"]


async def test_cli_test_exit_codes(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if settings.is_postgres:
        pytest.skip("the CLI path is the same on both backends")
    recorder = Recorder(lambda n, _r: Response("ok") if n == 0 else Response("down", 503))
    for name, value in (("TASKHOOK_DB", settings.db), ("TASKHOOK_SECRET_KEY", settings.secret_key),
                        ("TASKHOOK_ALLOW_HTTP_SUBSCRIBERS", "1"),
                        ("TASKHOOK_ALLOW_PRIVATE_SUBSCRIBERS", "1")):  # fmt: skip
        monkeypatch.setenv(name, str(value))
    async with live_server(recorder.app()) as base:
        assert await asyncio.to_thread(run, ["subscribers", "add", f"{base}/h", "--json"]) == 0
        sub_id = json.loads(capsys.readouterr().out)["id"]
        assert await asyncio.to_thread(run, ["subscribers", "test", sub_id]) == 0
        assert json.loads(capsys.readouterr().out)["status_code"] == 200
        assert await asyncio.to_thread(run, ["subscribers", "test", sub_id]) == 1
        assert "did not accept it: HTTP 503" in capsys.readouterr().err
    assert len(recorder.received) == 2


async def test_dashboard_button(settings: Settings) -> None:
    recorder = Recorder()
    fanout = FanoutPart()
    dashboard = DashboardPart(Collaborators(fanout=fanout.fanout))
    app = create_app(fast_settings(settings), [dashboard, fanout])
    async with live_server(recorder.app()) as base, app_client(app, token=None) as client:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        made = await client.post("/api/subscribers", json={"url": f"{base}/h"}, headers=headers)
        sub_id = made.json()["id"]
        await client.post("/ui/login", data={"token": ADMIN_TOKEN})
        page = await client.get("/ui/subscribers")
        assert f'action="/ui/subscribers/{sub_id}/test"' in page.text
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        answer = await client.post(f"/ui/subscribers/{sub_id}/test", data={"csrf": csrf})
        assert answer.status_code == 200 and 'data-delivered="yes"' in answer.text
        assert "Accepted: HTTP 200" in answer.text
        forged = await client.post(f"/ui/subscribers/{sub_id}/test", data={"csrf": "x"})
        assert forged.status_code == 403
    assert len(recorder.received) == 1
