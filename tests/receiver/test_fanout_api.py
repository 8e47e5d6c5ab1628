"""The subscriber and delivery API: shapes, errors, secrets shown once and stored encrypted."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response

from receiver.app import create_app
from receiver.fanout.fanout_part import FanoutPart
from receiver.secretbox import SecretBox
from receiver.settings import Settings
from tests.receiver.fanout_support import Recorder, complete, fast_settings
from tests.support import app_client, live_server, tick_until

SLACK_TOKEN = "T0000/B0000/XXXXSECRETXXXX"


async def _deliver_all(app: Starlette, until_states: set[str]) -> None:
    runtime = app.state.runtime

    async def settled() -> bool:
        rows = await runtime.db.fetchall("SELECT state FROM deliveries")
        return bool(rows) and {r["state"] for r in rows} <= until_states

    await tick_until(runtime.runner, settled)


async def test_secrets_are_shown_once_encrypted_and_never_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = fast_settings(settings)
    recorder = Recorder(lambda n, _r: Response("no", 500) if n == 0 else Response())
    app = create_app(settings, [FanoutPart()])
    async with live_server(recorder.app()) as base, app_client(app) as client:
        made = await client.post("/api/subscribers", json={"url": f"{base}/hook"})
        assert made.status_code == 201
        body = made.json()
        assert set(body) >= {"id", "url", "kind", "filter", "enabled", "secret"}
        assert body["kind"] == "webhook" and body["enabled"] is True and body["filter"] == {}
        secret = body["secret"]
        assert secret.startswith("whsec_")
        slack = (await client.post("/api/subscribers", json={
            "url": f"{base}/services/{SLACK_TOKEN}", "kind": "slack",
        })).json()  # fmt: skip
        assert slack["url"] == f"{base}/services/{SLACK_TOKEN}"  # shown in full once
        await complete(app.state.runtime.db)
        await _deliver_all(app, {"delivered"})
        rotated = (await client.post(f"/api/subscribers/{body['id']}/rotate-secret")).json()
        answers = [
            (await client.get("/api/subscribers")).text,
            (await client.get(f"/api/subscribers/{body['id']}")).text,
            (await client.get(f"/api/subscribers/{slack['id']}")).text,
            (await client.get("/api/deliveries")).text,
        ]
        rows = await app.state.runtime.db.fetchall("SELECT * FROM subscribers")
    for hidden in (secret, secret[6:], rotated["secret"], SLACK_TOKEN, "XXXXSECRETXXXX"):
        assert all(hidden not in text for text in answers)
        ours = [
            r for r in caplog.records if not r.name.startswith("uvicorn")
        ]  # not the subscriber's
        assert all(hidden not in r.getMessage() for r in ours)
        assert ours and any("HTTP Request" in r.getMessage() for r in ours)
        assert all(hidden not in str(row) for row in rows)
    listed = httpx.Response(200, text=answers[2]).json()
    assert listed["url"] == f"{base}/services/***" and "secret" not in listed
    webhook_row = next(r for r in rows if r["id"] == body["id"])
    box = SecretBox(settings.secret_key)
    assert box.decrypt(webhook_row["secret_enc"], body["id"]) == rotated["secret"]
    assert box.decrypt(webhook_row["old_secret_enc"], body["id"]) == secret
    assert recorder.on(f"/services/{SLACK_TOKEN}")  # the real URL was used


@pytest.mark.parametrize(
    ("payload", "field", "hint"),
    [
        ({"url": "http://example.com/x"}, "url", "https://"),
        ({"url": "not a url"}, "url", "https://"),
        ({"url": 42}, "url", "https://"),
        ({"url": "https://127.0.0.1/x"}, "url", "loopback"),
        ({"url": "https://example.com/x", "kind": "email"}, "kind", "webhook, slack, discord"),
        ({"url": "https://example.com/x", "filter": {"colour": ["red"]}}, "filter", "provider"),
        ({"url": "https://example.com/x", "filter": {"type": ["task.faild"]}}, "filter", "task.*"),
        ({"url": "https://example.com/x", "filter": ["provider=kie"]}, "filter", "object"),
    ],
)
async def test_bad_subscribers_are_422_naming_the_field(
    settings: Settings, payload: dict[str, object], field: str, hint: str
) -> None:
    strict = settings.replace(allow_http_subscribers=False, allow_private_subscribers=False)
    async with app_client(create_app(strict, [FanoutPart()])) as client:
        answer = await client.post("/api/subscribers", json=payload)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_input" and error["field"] == field and hint in error["message"]


async def test_manage_subscribers_and_deliveries(settings: Settings) -> None:
    settings = fast_settings(settings)
    recorder = Recorder(lambda _n, _r: Response("down", 500))
    app = create_app(settings, [FanoutPart()])
    async with live_server(recorder.app()) as base, app_client(app) as client:
        sub = (await client.post("/api/subscribers", json={
            "url": f"{base}/hook", "filter": {"provider": "kie", "model": ["sora-2*"]},
        })).json()  # fmt: skip
        assert sub["filter"] == {"provider": ["kie"], "model": ["sora-2*"]}
        sid = sub["id"]
        paused = await client.patch(f"/api/subscribers/{sid}", json={"paused": True})
        assert paused.status_code == 200 and paused.json()["paused"] is True
        bad = await client.patch(f"/api/subscribers/{sid}", json={"url": "https://x"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "url"
        await client.patch(f"/api/subscribers/{sid}", json={"paused": False})
        event = await complete(app.state.runtime.db)
        await complete(app.state.runtime.db, provider="foxapi")  # filtered out
        await _deliver_all(app, {"dead"})

        dead = (await client.get("/api/deliveries", params={"state": "dead"})).json()["items"]
        assert len(dead) == 1 and dead[0]["event_id"] == event["id"]
        assert [a["status_code"] for a in dead[0]["attempts"]] == [500, 500, 500]
        assert [a["attempt_no"] for a in dead[0]["attempts"]] == [1, 2, 3]
        assert dead[0]["attempts"][0]["at"].endswith("Z")
        bad_state = await client.get("/api/deliveries", params={"state": "lost"})
        assert bad_state.status_code == 422 and bad_state.json()["error"]["field"] == "state"

        replay = await client.post(f"/api/events/{event['id']}/replay", json={})
        assert replay.status_code == 202 and replay.json()["queued"][0]["generation"] == 1
        again = await client.post(
            "/api/deliveries/replay-dead", json={"since": "2000-01-01T00:00:00Z"}
        )
        assert again.status_code == 202 and again.json()["queued"] == []  # gen 1 is newer
        bad_since = await client.post("/api/deliveries/replay-dead", json={"since": "yesterday"})
        assert bad_since.status_code == 422 and bad_since.json()["error"]["field"] == "since"
        missing = await client.post("/api/events/evt_nope/replay")
        assert missing.status_code == 404

        assert (await client.delete(f"/api/subscribers/{sid}")).status_code == 204
        assert (await client.get(f"/api/subscribers/{sid}")).status_code == 404
        assert (await client.delete(f"/api/subscribers/{sid}")).status_code == 404
        pending = (await client.get("/api/deliveries", params={"state": "pending"})).json()
        assert pending["items"] == []  # the replayed delivery died with its subscriber


async def test_replay_dead_requeues_after_the_subscriber_recovers(settings: Settings) -> None:
    settings = fast_settings(settings)
    healthy = {"now": False}
    recorder = Recorder(lambda _n, _r: Response() if healthy["now"] else Response("x", 503))
    app = create_app(settings, [FanoutPart()])
    async with live_server(recorder.app()) as base, app_client(app) as client:
        await client.post("/api/subscribers", json={"url": f"{base}/hook"})
        events = [await complete(app.state.runtime.db) for _ in range(2)]
        await _deliver_all(app, {"dead"})
        healthy["now"] = True
        queued = (await client.post("/api/deliveries/replay-dead")).json()["queued"]
        assert len(queued) == 2
        await _deliver_all(app, {"dead", "delivered"})
        delivered = (await client.get("/api/deliveries", params={"state": "delivered"})).json()
    assert sorted(d["event_id"] for d in delivered["items"]) == sorted(e["id"] for e in events)
    ids = {r.headers["webhook-id"] for r in recorder.received}
    assert ids == {e["id"] for e in events} and len(recorder.received) == 8  # 3 + 3 + 2
