"""Slack- and Discord-like subscribers: message shapes, pacing, 429 handling, 404."""

from __future__ import annotations

import itertools
import json

from starlette.responses import JSONResponse, Response

from receiver.db import Database
from receiver.fanout.pacing import TokenBucket
from receiver.fanout.sinks.discord import DiscordSink, body_retry_after
from receiver.fanout.sinks.slack import SlackSink
from receiver.settings import Settings
from receiver.store.jsonutil import loads
from tests.receiver.fanout_support import Recorder, complete, delivery_states, fanout, fast_settings
from tests.support import live_server


async def _all(db: Database, state: str, n: int) -> bool:
    return await delivery_states(db) == [state] * n


async def test_slack_blocks_pacing_and_429(db: Database, settings: Settings) -> None:
    settings = fast_settings(settings)
    recorder = Recorder(
        lambda n, _r: Response("rate limited", 429, {"Retry-After": "1"}) if n == 1 else Response()
    )
    async with live_server(recorder.app()) as base, fanout(db, settings) as fo:
        await fo.subs.create(f"{base}/services/T1/B1/abc", "slack")
        await complete(db, prompt="a <b>cat</b> & a dog", model="sora-2-pro")
        await complete(db, "failed")
        await complete(db)
        await fo.drain(lambda: _all(db, "delivered", 3), timeout_s=15)
    times = [r.at for r in recorder.received]
    assert len(times) == 4  # 3 messages + the one refused with 429
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(times))  # <= ~1 msg/s
    first = next(json.loads(r.body) for r in recorder.received if b"sora-2-pro" in r.body)
    assert first["text"].startswith(":white_check_mark: taskhook: Task succeeded")
    text = json.dumps(first["blocks"])
    assert "kie / sora-2-pro" in text and "a &lt;b&gt;cat&lt;/b&gt; &amp; a dog" in text
    assert "<https://cdn.example/v1.mp4|Result 1>" in text
    failed = next(json.loads(r.body) for r in recorder.received if b"Task failed" in r.body)
    assert "content_policy: refused" in json.dumps(failed["blocks"])
    assert all("webhook-signature" not in r.headers for r in recorder.received)


async def test_discord_embed_429_body_and_404(db: Database, settings: Settings) -> None:
    settings = fast_settings(settings)

    def behaviour(n: int, _r: object) -> Response:
        if n == 0:
            return JSONResponse({"message": "rate limited", "retry_after": 0.6}, 429)
        if n == 2:
            return JSONResponse({"message": "Unknown Webhook", "code": 10015}, 404)
        return Response(status_code=204)

    recorder = Recorder(behaviour)
    async with live_server(recorder.app()) as base, fanout(db, settings, batch_size=1) as fo:
        sub = await fo.subs.create(f"{base}/api/webhooks/1/tok", "discord")
        await complete(db, provider="foxapi")
        await fo.drain(lambda: _all(db, "delivered", 1))
        await complete(db)
        await fo.drain(lambda: _disabled(fo, sub["id"]))
    assert recorder.received[1].at - recorder.received[0].at >= 0.55  # body retry_after honoured
    message = json.loads(recorder.received[1].body)
    assert message["content"].startswith("taskhook: Task succeeded")
    embed = message["embeds"][0]
    assert embed["description"] == "a cat surfing" and embed["title"] == "Task succeeded"
    assert {"name": "Provider / model", "value": "foxapi / sora-2", "inline": True} in embed[
        "fields"
    ]
    assert message["allowed_mentions"] == {"parse": []}
    row = await fo.subs.get(sub["id"])
    assert row["enabled"] == 0 and "404" in row["disabled_reason"]
    event = await db.fetchone("SELECT payload FROM events WHERE type = 'subscriber.disabled'")
    assert event is not None and loads(event["payload"])["data"]["kind"] == "discord"


async def _disabled(fo, sub_id: str) -> bool:  # type: ignore[no-untyped-def]
    return (await fo.subs.get(sub_id))["enabled"] == 0


def test_discord_retry_after_is_parsed_defensively() -> None:
    assert body_retry_after(b'{"retry_after": 1.5}') == 1.5
    assert body_retry_after(b'{"retry_after": "2"}') == 2.0
    for junk in (b"", b"not json", b"[]", b'{"retry_after": null}', b'{"retry_after": -3}',
                 b'{"retry_after": "NaN"}', b'{"retry_after": {"x": 1}}'):  # fmt: skip
        assert body_retry_after(junk) is None
    assert body_retry_after(b'{"retry_after": 1e12}') == 86400.0


def test_token_bucket_paces_and_holds() -> None:
    now = [0.0]
    bucket = TokenBucket(1.0, 1.0, clock=lambda: now[0])
    assert bucket.take("a") == 0.0
    assert 0.99 <= bucket.take("a") <= 1.0
    assert bucket.take("b") == 0.0  # per subscriber
    now[0] = 1.0
    assert bucket.take("a") == 0.0
    bucket.hold("a", 5.0)
    now[0] = 3.0
    assert bucket.take("a") == 3.0
    now[0] = 7.0
    assert bucket.take("a") == 0.0
    assert SlackSink().bucket.rate_per_s == 1.0 and DiscordSink().bucket.burst >= 1


async def test_slack_pacing_holds_across_workers_that_share_a_database(
    db: Database, settings: Settings
) -> None:
    """Two workers (as two processes would: each with its own sinks) send one Slack webhook
    at most one message a second together: the window is kept in the database."""
    settings = fast_settings(settings)
    recorder = Recorder()
    async with (
        live_server(recorder.app()) as base,
        fanout(db, settings, batch_size=1) as one,
        fanout(db, settings, batch_size=1) as two,
    ):
        assert one.worker.sinks["slack"] is not two.worker.sinks["slack"]
        await one.subs.create(f"{base}/services/T1/B1/abc", "slack")
        for _ in range(3):
            await complete(db)

        async def both() -> bool:
            await two.worker.run_once()
            return await _all(db, "delivered", 3)

        await one.drain(both, timeout_s=15)
    times = sorted(r.at for r in recorder.received)
    assert len(times) == 3
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(times))
