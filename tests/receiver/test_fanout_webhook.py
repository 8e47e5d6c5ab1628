"""Webhook delivery: Standard Webhooks signatures a stock verifier accepts, rotation, replay."""

from __future__ import annotations

import json

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.requests import Request
from starlette.responses import Response

from receiver.db import Database
from receiver.settings import Settings
from receiver.store.deliveries import replay_event
from tests.receiver.fanout_support import Recorder, complete, fanout, fast_settings
from tests.support import live_server


def _verifier(secrets: list[str], seen: list[dict[str, object]]) -> Recorder:
    """A subscriber that answers 200 only when EVERY message verifies with each secret."""

    async def behaviour(_n: int, request: Request) -> Response:
        body = await request.body()
        for secret in secrets:
            try:
                seen.append(Webhook(secret).verify(body, dict(request.headers)))
            except WebhookVerificationError as exc:
                return Response(f"bad signature: {exc}", 400)
        return Response("ok")

    return Recorder(behaviour)


async def test_every_message_verifies_with_standardwebhooks(db: Database, settings: Settings):
    settings = fast_settings(settings)
    secrets: list[str] = []
    seen: list[dict[str, object]] = []
    recorder = _verifier(secrets, seen)
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        sub = await fo.subs.create(f"{base}/hook", "webhook")
        assert sub["secret"].startswith("whsec_")
        secrets.append(sub["secret"])
        events = [await complete(db) for _ in range(3)] + [await complete(db, "failed")]
        await fo.drain(lambda: len(recorder.received) >= 4)
        assert await fo.worker.run_once() == 0  # nothing left: recorded as delivered
    by_id = {r.headers["webhook-id"]: r for r in recorder.received}
    assert sorted(by_id) == sorted(e["id"] for e in events) and len(recorder.received) == 4
    stored = await db.fetchall("SELECT id, payload FROM events ORDER BY id")
    assert {row["id"]: row["payload"] for row in stored} == {
        msg_id: r.body.decode() for msg_id, r in by_id.items()
    }
    assert sorted(seen, key=str) == sorted((json.loads(r["payload"]) for r in stored), key=str)
    rows = await db.fetchall("SELECT state, attempt_count FROM deliveries")
    assert [(r["state"], r["attempt_count"]) for r in rows] == [("delivered", 1)] * 4


async def test_rotation_signs_with_both_secrets_during_grace(db: Database, settings: Settings):
    settings = fast_settings(settings)
    secrets: list[str] = []
    recorder = _verifier(secrets, [])
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        sub = await fo.subs.create(f"{base}/hook", "webhook")
        old = sub["secret"]
        rotated = await fo.subs.rotate_secret(sub["id"])
        new = rotated["secret"]
        assert new.startswith("whsec_") and new != old
        assert rotated["previous_secret_valid_until"] is not None
        secrets.extend([old, new])  # the receiver insists that both verify
        await complete(db)
        await fo.drain(lambda: len(recorder.received) >= 1)
        signatures = recorder.received[0].headers["webhook-signature"].split(" ")
        assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
        assert await db.fetchone("SELECT state FROM deliveries") == {"state": "delivered"}

        # after the grace period only the new secret signs
        await db.execute("UPDATE subscribers SET old_secret_until = 1")
        secrets.remove(old)
        await complete(db)
        await fo.drain(lambda: len(recorder.received) >= 2)
        assert len(recorder.received[1].headers["webhook-signature"].split(" ")) == 1
        try:
            Webhook(old).verify(recorder.received[1].body, recorder.received[1].headers)
        except WebhookVerificationError:
            pass
        else:
            raise AssertionError("a retired secret still verified")


async def test_replay_sends_the_same_webhook_id_again(db: Database, settings: Settings):
    settings = fast_settings(settings)
    recorder = Recorder()
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        sub = await fo.subs.create(f"{base}/hook", "webhook")
        event = await complete(db)
        await fo.drain(lambda: len(recorder.received) >= 1)
        queued = await replay_event(db, event["id"], sub["id"])
        assert [q["generation"] for q in queued] == [1]
        await fo.drain(lambda: len(recorder.received) >= 2)
    first, second = recorder.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event["id"]
    assert first.body == second.body
    rows = await db.fetchall("SELECT generation, state FROM deliveries ORDER BY generation")
    assert rows == [
        {"generation": 0, "state": "delivered"},
        {"generation": 1, "state": "delivered"},
    ]
