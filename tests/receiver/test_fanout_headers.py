"""Custom headers on webhook subscribers: sent, encrypted at rest, redacted, checked."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from receiver.app import create_app
from receiver.fanout.fanout_part import FanoutPart
from receiver.settings import Settings
from tests.receiver.fanout_support import Recorder, complete, fanout_of, fast_settings
from tests.support import app_client, live_server

API_KEY = "sk-live-very-secret-value"


async def test_headers_are_sent_stored_encrypted_and_shown_redacted(settings: Settings) -> None:
    recorder = Recorder()
    app = create_app(fast_settings(settings), [FanoutPart()])
    async with live_server(recorder.app()) as base, app_client(app) as client:
        made = await client.post("/api/subscribers", json={
            "url": f"{base}/hook", "headers": {"X-Api-Key": API_KEY, "X-Tenant": "acme"},
        })  # fmt: skip
        assert made.status_code == 201, made.text
        sub = made.json()
        assert sub["headers"] == {"X-Api-Key": "***", "X-Tenant": "***"}
        shown = await client.get(f"/api/subscribers/{sub['id']}")
        assert API_KEY not in shown.text and shown.json()["headers"]["X-Api-Key"] == "***"
        runtime = app.state.runtime
        stored = await runtime.db.fetchone("SELECT * FROM subscribers WHERE id = ?", sub["id"])
        assert API_KEY not in str(stored) and "X-Api-Key" in stored["headers_enc"]
        await complete(runtime.db)
        worker = fanout_of(app).worker
        while not recorder.received:
            await worker.run_once()
        got = recorder.received[0]
        assert got.headers["x-api-key"] == API_KEY and got.headers["x-tenant"] == "acme"
        Webhook(sub["secret"]).verify(got.body, got.headers)  # still signed as before
        cleared = await client.patch(f"/api/subscribers/{sub['id']}", json={"headers": {}})
        assert cleared.status_code == 200 and cleared.json()["headers"] == {}
        changed = await client.patch(
            f"/api/subscribers/{sub['id']}", json={"headers": {"Authorization": "Bearer x"}}
        )
        assert changed.json()["headers"] == {"Authorization": "***"}


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({f"X-H{i}": "v" for i in range(11)}, "at most 10 headers"),
        ({"Webhook-Signature": "v1,forged"}, "cannot be overridden"),
        ({"webhook-id": "x"}, "cannot be overridden"),
        ({"Content-Type": "text/plain"}, "cannot be overridden"),
        ({"Host": "evil.example"}, "cannot be overridden"),
        ({"X Bad": "v"}, "not a valid HTTP header name"),
        ({"X-Ok": "line\r\nInjected: 1"}, "text on one line"),
        ({"X-Ok": 5}, "text on one line"),
        (["X-Ok"], "must be an object"),
    ],
)
async def test_bad_headers_are_refused(settings: Settings, headers: object, says: str) -> None:
    app = create_app(fast_settings(settings), [FanoutPart()])
    async with app_client(app) as client:
        answer = await client.post(
            "/api/subscribers", json={"url": "https://example.com/h", "headers": headers}
        )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "headers" and says in error["message"]


async def test_chat_subscribers_take_no_headers(settings: Settings) -> None:
    app = create_app(fast_settings(settings), [FanoutPart()])
    async with app_client(app) as client:
        answer = await client.post("/api/subscribers", json={
            "url": "https://hooks.slack.com/services/T/B/X", "kind": "slack",
            "headers": {"X-A": "b"},
        })  # fmt: skip
    assert answer.status_code == 422 and "webhook subscribers" in answer.text
