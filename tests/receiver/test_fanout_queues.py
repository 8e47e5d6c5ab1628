"""Redis Streams, NATS JetStream and RabbitMQ subscribers against the real local brokers."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from receiver.app import create_app
from receiver.db import Database
from receiver.errors import InvalidInput
from receiver.fanout.fanout_part import FanoutPart
from receiver.fanout.sinks.amqp import AmqpSink
from receiver.fanout.sinks.base import Target
from receiver.fanout.sinks.broker_url import redact_credentials, scrub
from receiver.fanout.sinks.nats import NatsSink
from receiver.fanout.sinks.redis import RedisSink
from receiver.fanout.ssrf import UrlGuard
from receiver.secretbox import SecretBox
from receiver.settings import Settings
from receiver.store.deliveries import replay_event
from tests.receiver.broker_support import BROKERS, HOST, broker, require, unique, unreachable
from tests.receiver.fanout_support import Recorder, complete, fanout, fast_settings
from tests.receiver.tcp_proxy import tcp_proxy
from tests.receiver.test_fanout_cli import taskhook
from tests.support import app_client, live_server

KINDS = ["redis", "nats", "amqp"]
PATIENT = (0.0, *([0.05] * 200))  # retries long enough to outlast a short outage
SECRET_PW = "s3cret-pw-9271"


async def _states(db: Database) -> dict[str, str]:
    rows = await db.fetchall("SELECT event_id, state FROM deliveries")
    return {row["event_id"]: row["state"] for row in rows}


async def _attempts(db: Database) -> list[dict[str, Any]]:
    return await db.fetchall("SELECT outcome, error FROM attempts ORDER BY started_at, id")


@pytest.mark.parametrize("kind", KINDS)
async def test_an_event_arrives_once_with_the_documented_fields(
    kind: str, db: Database, settings: Settings
) -> None:
    settings = fast_settings(settings)
    async with broker(kind) as reader, fanout(db, settings) as fo:
        await fo.subs.create(reader.url(), kind)
        event = await complete(db, provider="foxapi")
        await fo.drain(lambda: _all_delivered(db, 1))
        [message] = await reader.messages()
    row = await db.fetchone("SELECT payload FROM events WHERE id = ?", event["id"])
    assert row is not None
    assert message.body == row["payload"].encode()  # the webhook body, byte for byte
    assert (message.event_id, message.type) == (event["id"], "task.succeeded")
    assert json.loads(message.body)["data"]["provider"] == "foxapi"
    if kind == "amqp":
        assert message.extra == {"content_type": "application/json", "delivery_mode": 2,
                                 "routing_key": "task.succeeded"}  # fmt: skip


async def _all_delivered(db: Database, n: int) -> bool:
    states = [row["state"] for row in await db.fetchall("SELECT state FROM deliveries")]
    return states == ["delivered"] * n


@pytest.mark.parametrize("kind", KINDS)
async def test_broker_down_then_up_delivers_after_the_restart_and_replay_resends(
    kind: str, db: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = fast_settings(settings, delivery_retry_schedule_s=PATIENT, delivery_timeout_s=5.0)
    recorder = Recorder()
    auth = "guest:guest@" if kind == "amqp" else f"default:{SECRET_PW}@"
    async with (
        broker(kind) as reader,
        tcp_proxy(HOST, BROKERS[kind]) as proxy,
        live_server(recorder.app()) as base,
        fanout(db, settings) as fo,
    ):
        if kind == "nats":
            auth = ""  # the shared NATS server has no accounts
        await fo.subs.create(reader.url(port=proxy.port, auth=auth), kind)
        await fo.subs.create(f"{base}/hook", "webhook")
        first = await complete(db)
        await fo.drain(lambda: _all_delivered(db, 2))  # the connection is now pooled
        await proxy.stop()
        second = await complete(db, "failed")
        await fo.drain(lambda: _failed_once(db))
        assert len(recorder.received) == 2  # the webhook did not wait for the broker
        await proxy.start()
        await fo.drain(lambda: _all_delivered(db, 4), timeout_s=30)
        assert [m.event_id for m in await reader.messages()] == [first["id"], second["id"]]
        await replay_event(db, first["id"])
        await fo.drain(lambda: _all_delivered(db, 6))
        again = await reader.messages()
    ids = [m.event_id for m in again]
    if kind == "nats":  # JetStream's duplicate window drops the re-send of a published id
        assert ids == [first["id"], second["id"]]
    else:
        assert ids == [first["id"], second["id"], first["id"]]
        assert again[2].body == again[0].body
    failures = [a for a in await _attempts(db) if a["outcome"] == "retry"]
    assert failures and all(kind in a["error"] for a in failures)
    assert SECRET_PW not in caplog.text + json.dumps(failures)
    assert ":guest@" not in caplog.text  # amqp's password


async def _failed_once(db: Database) -> bool:
    return any(a["outcome"] == "retry" for a in await _attempts(db))


async def test_nats_refuses_a_subject_without_stream_unless_asked_to_create_one(
    db: Database, settings: Settings
) -> None:
    await require("nats")
    async with fanout(db, settings) as fo, broker("nats") as reader:
        subject, stream = unique("th.nostream."), unique("THNEW_")
        url = f"nats://{HOST}:{BROKERS['nats']}?subject={subject}"
        with pytest.raises(Exception, match="no JetStream stream covers subject") as info:
            await fo.subs.create(url, "nats")
        assert getattr(info.value, "field", None) == "url"
        made = await fo.subs.create(f"{url}&create_stream={stream}", "nats")
        assert made["kind"] == "nats"
        await fo.subs.create(reader.url(), "nats")  # an existing stream is found
    import nats

    client = await nats.connect(f"nats://{HOST}:{BROKERS['nats']}")
    try:
        js = client.jetstream()
        assert await js.find_stream_name_by_subject(subject) == stream
        await js.delete_stream(stream)
    finally:
        await client.close()


BAD_URLS = [
    ("redis", "http://127.0.0.1:6379/0", "must start with redis:// or rediss://"),
    ("redis", "redis:///0?stream=x", "no host"),
    ("redis", "redis://127.0.0.1:99999/0", "invalid port"),
    ("redis", "redis://127.0.0.1:0/0", "invalid port"),
    ("redis", "redis://127.0.0.1:6379/0?stream=x&colour=red", "option 'colour' is unknown"),
    ("redis", "redis://127.0.0.1:6379/zero", "database number"),
    ("redis", "redis://127.0.0.1:6379/0?maxlen=-3", "maxlen"),
    ("nats", "https://127.0.0.1:4222", "must start with nats:// or tls://"),
    ("nats", "nats://:4222?subject=a", "no host"),
    ("nats", "nats://127.0.0.1:port?subject=a", "invalid port"),
    ("nats", "nats://127.0.0.1:4222?topic=a", "option 'topic' is unknown"),
    ("nats", "nats://127.0.0.1:4222?subject=a.*", "not a literal NATS subject"),
    ("amqp", "rabbitmq://guest:guest@127.0.0.1:5672/", "must start with amqp:// or amqps://"),
    ("amqp", "amqp://guest:guest@:5672/", "no host"),
    ("amqp", "amqp://guest:guest@127.0.0.1:0x10/", "invalid port"),
    ("amqp", "amqp://guest:guest@127.0.0.1:5672/?queue=q", "option 'queue' is unknown"),
    ("amqp", "amqp://guest:guest@127.0.0.1:5672/?exchange=x&exchange=y", "given once"),
]


@pytest.mark.parametrize(("kind", "url", "says"), BAD_URLS)
async def test_bad_urls_are_refused_with_422_naming_the_field(
    kind: str, url: str, says: str, settings: Settings
) -> None:
    app = create_app(settings, [FanoutPart()])
    async with app_client(app) as client:
        answer = await client.post("/api/subscribers", json={"url": url, "kind": kind})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "url" and says in error["message"], error
    assert "guest:guest" not in answer.text


@pytest.mark.parametrize("kind", KINDS)
async def test_the_ssrf_guard_and_plaintext_rule_apply_to_brokers(
    kind: str, settings: Settings
) -> None:
    port = BROKERS[kind]
    url = {"redis": f"redis://127.0.0.1:{port}/0", "nats": f"nats://127.0.0.1:{port}",
           "amqp": f"amqp://guest:guest@127.0.0.1:{port}/"}[kind]  # fmt: skip
    strict = settings.replace(allow_private_subscribers=False)
    plain = settings.replace(allow_http_subscribers=False)
    async with app_client(create_app(strict, [FanoutPart()])) as client:
        answer = await client.post("/api/subscribers", json={"url": url, "kind": kind})
        assert answer.status_code == 422 and "loopback" in answer.json()["error"]["message"]
    async with app_client(create_app(plain, [FanoutPart()])) as client:
        answer = await client.post("/api/subscribers", json={"url": url, "kind": kind})
        assert answer.status_code == 422 and "unencrypted" in answer.json()["error"]["message"]


async def test_credentials_are_encrypted_and_redacted_in_the_api(
    db: Database, settings: Settings
) -> None:
    await require("redis")
    settings = fast_settings(settings)
    url = f"redis://default:{SECRET_PW}@{HOST}:{BROKERS['redis']}/0?stream={unique('th.')}"
    app = create_app(settings, [FanoutPart()])
    async with app_client(app) as client:
        made = await client.post("/api/subscribers", json={"url": url, "kind": "redis"})
        assert made.status_code == 201, made.text
        sub = made.json()
        shown = [made.text, (await client.get("/api/subscribers")).text,
                 (await client.get(f"/api/subscribers/{sub['id']}")).text]  # fmt: skip
        runtime_db = app.state.runtime.db
        row = await runtime_db.fetchone("SELECT * FROM subscribers WHERE id = ?", sub["id"])
    assert sub["url"] == url.replace(SECRET_PW, "***") and sub["secret"] is None
    assert all(SECRET_PW not in text for text in shown)
    assert SECRET_PW not in json.dumps({k: v for k, v in row.items() if k != "secret_enc"})
    assert SecretBox(settings.secret_key).decrypt(row["secret_enc"], sub["id"]) == url


async def test_a_broken_broker_counts_as_failed_and_is_dead_lettered_after_the_schedule(
    db: Database, settings: Settings
) -> None:
    await require("redis")
    settings = fast_settings(settings)
    async with tcp_proxy(HOST, BROKERS["redis"]) as proxy, fanout(db, settings) as fo:
        await proxy.stop()
        await fo.subs.create(f"redis://{HOST}:{proxy.port}/0?stream={unique('th.')}", "redis")
        event = await complete(db)

        async def dead() -> bool:
            return (await _states(db)).get(event["id"]) == "dead"

        await fo.drain(dead)
    outcomes = [a["outcome"] for a in await _attempts(db)]
    assert outcomes == ["retry", "retry", "dead"]  # FAST_SCHEDULE: 3 attempts, as for webhooks


def test_cli_adds_a_redis_subscriber_and_never_prints_its_password(tmp_path: Path) -> None:
    if asyncio.run(unreachable("redis")):
        pytest.skip(asyncio.run(unreachable("redis")) or "")
    url = f"redis://default:{SECRET_PW}@{HOST}:{BROKERS['redis']}/0?stream=videos"
    added = taskhook("subscribers", "add", url, "--kind", "redis", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["url"] == url.replace(SECRET_PW, "***")
    listed = taskhook("subscribers", "list", cwd=tmp_path)
    assert listed.returncode == 0 and "redis://default:***@" in listed.stdout
    bad = taskhook("subscribers", "add", "redis://:6379/0", "--kind", "redis", cwd=tmp_path)
    assert bad.returncode == 2 and "no host" in bad.stderr
    for run in (added, listed, bad):
        assert SECRET_PW not in run.stdout + run.stderr


@pytest.mark.parametrize("kind", KINDS)
async def test_filters_and_pause_resume_work_for_queue_kinds(
    kind: str, db: Database, settings: Settings
) -> None:
    settings = fast_settings(settings)
    async with broker(kind) as reader, fanout(db, settings) as fo:
        sub = await fo.subs.create(reader.url(), kind, {"type": "task.failed"})
        await complete(db)  # filtered out: no delivery
        first = await complete(db, "failed")
        await fo.drain(lambda: _all_delivered(db, 1))
        await fo.subs.update(sub["id"], {"paused": True})
        second = await complete(db, "failed")
        await fo.worker.run_once()
        assert [m.event_id for m in await reader.messages()] == [first["id"]]  # held
        await fo.subs.update(sub["id"], {"paused": False})
        await fo.drain(lambda: _all_delivered(db, 2))
        assert [m.event_id for m in await reader.messages()] == [first["id"], second["id"]]


async def test_the_dashboard_shows_a_queue_subscriber_with_its_password_redacted(
    settings: Settings,
) -> None:
    from receiver.dashboard.collaborators import Collaborators
    from receiver.dashboard.dashboard_part import DashboardPart
    from tests.support import ADMIN_TOKEN

    await require("redis")
    url = f"redis://default:{SECRET_PW}@{HOST}:{BROKERS['redis']}/0?stream={unique('th.')}"
    fanout = FanoutPart()
    app = create_app(settings, [fanout, DashboardPart(Collaborators(fanout=fanout.fanout))])
    async with app_client(app, token=None) as client:
        bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        made = await client.post("/api/subscribers", json={"url": url, "kind": "redis"},
                                 headers=bearer)  # fmt: skip
        assert made.status_code == 201, made.text
        await client.post("/ui/login", data={"token": ADMIN_TOKEN})
        page = await client.get("/ui/subscribers")
    assert page.status_code == 200 and made.json()["id"] in page.text
    assert "redis://default:***@" in page.text and SECRET_PW not in page.text


def test_credentials_are_redacted_and_scrubbed_from_client_errors() -> None:
    assert redact_credentials("redis://u:p%40ss@h:1/0?stream=s") == "redis://u:***@h:1/0?stream=s"
    assert redact_credentials("nats://tok3n@h:4222?subject=a") == "nats://***@h:4222?subject=a"
    assert redact_credentials("amqp://h:5672/") == "amqp://h:5672/"
    said = "cannot connect to amqp://guest:pw1@h/ as guest with pw1"
    assert scrub(said, ("pw1",)) == "cannot connect to amqp://guest:***@h/ as guest with ***"
    assert scrub("redis://a:b@h failed", ()) == "redis://a:***@h failed"


async def test_a_kind_whose_client_is_not_installed_is_refused_naming_the_extra() -> None:
    class Missing(RedisSink):
        client_module = "no_such_client_module_for_taskhook"

    with pytest.raises(InvalidInput, match=r"pip install 'taskhook\[queues\]'") as info:
        await Missing.vet("redis://127.0.0.1:6379/0", UrlGuard(allow_http=True))
    assert info.value.field == "kind"


async def test_nats_refuses_a_broker_it_cannot_reach_to_check_the_stream(
    db: Database, settings: Settings
) -> None:
    from tests.support import free_port

    async with fanout(db, settings) as fo:
        with pytest.raises(InvalidInput, match=r"cannot reach NATS at 127\.0\.0\.1") as info:
            await fo.subs.create(f"nats://u:{SECRET_PW}@127.0.0.1:{free_port()}?subject=a", "nats")
    assert info.value.field == "url" and SECRET_PW not in str(info.value)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_connection_left_idle_is_closed_and_reopened_on_demand(kind: str) -> None:
    sink_class = {"redis": RedisSink, "nats": NatsSink, "amqp": AmqpSink}[kind]
    sink = sink_class(UrlGuard(allow_http=True, allow_private=True), idle_close_s=0.0)
    event = {"id": "evt_idle", "type": "task.succeeded"}
    async with broker(kind) as reader:
        url = reader.url()
        try:
            for sub_id in ("sub_a", "sub_b", "sub_a"):
                verdict = await sink.publish(Target(sub_id, kind, url, url), event, b"{}")
                assert verdict.outcome == "delivered", verdict
                assert sink.open_connections() == {sub_id}  # the other one was idle: closed
        finally:
            await sink.aclose()
        assert sink.open_connections() == set()
        assert len(await reader.messages()) == (1 if kind == "nats" else 3)  # nats: same id


async def test_redis_maxlen_trims_the_stream_approximately() -> None:
    sink = RedisSink(UrlGuard(allow_http=True, allow_private=True))
    async with broker("redis") as reader:
        url = f"{reader.url()}&maxlen=10"
        try:
            for n in range(300):
                event = {"id": f"evt_{n}", "type": "task.succeeded"}
                verdict = await sink.publish(Target("sub_trim", "redis", url, url), event, b"{}")
                assert verdict.outcome == "delivered"
        finally:
            await sink.aclose()
        kept = await reader.messages()
    assert 10 <= len(kept) < 300  # MAXLEN ~ 10: whole nodes are trimmed, the newest kept
    assert kept[-1].event_id == "evt_299"


@pytest.mark.parametrize("kind", KINDS)
async def test_a_test_event_is_published_to_a_queue_subscriber(
    kind: str, settings: Settings
) -> None:
    """`POST /api/subscribers/{id}/test` goes through the sink as a delivery does."""
    async with broker(kind) as reader:
        app = create_app(fast_settings(settings), [FanoutPart()])
        async with app_client(app) as client:
            made = await client.post("/api/subscribers", json={"url": reader.url(), "kind": kind})
            assert made.status_code == 201, made.text
            answer = await client.post(f"/api/subscribers/{made.json()['id']}/test")
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["delivered"] is True and result["error"] is None, result
        [message] = await reader.messages()
        assert (message.event_id, message.type) == (result["event_id"], "taskhook.test")
