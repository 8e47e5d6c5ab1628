"""Refused callbacks cost bounded storage: a summary row, a per-address throttle, a table cap."""

from __future__ import annotations

import hashlib
import json

import pytest

from receiver.callbacks.audit_cap import AuditCapWorker
from receiver.settings import RateLimit, Settings
from receiver.store.audit_cap import audit_bytes
from receiver.store.audit_summary import BODY_PREFIX_BYTES, ROW_MAX_BYTES
from tests.receiver.callback_helpers import KIE_KEY, add_task, count, kie_body, post_kie, running

BIG_HEADERS = {f"x-junk-{i}": "h" * 2000 for i in range(60)}


def _settings(settings: Settings, **changes: object) -> Settings:
    return settings.replace(kie_webhook_key=KIE_KEY, workers=False, **changes)


async def test_a_refused_callback_keeps_only_a_bounded_summary(settings: Settings) -> None:
    body = b'{"data": {"taskId": "task_abc"}, "pad": "' + b"x" * 70_000 + b'"}'
    async with running(_settings(settings)) as (client, rt):
        await add_task(rt.db)
        resp = await client.post("/callbacks/kie", content=body, headers=BIG_HEADERS)
        assert resp.status_code == 401
        (row,) = await rt.db.fetchall("SELECT * FROM callbacks")
    assert row["verdict"] == "unauthorized"
    assert row["body_size"] == len(body)
    assert row["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert row["body"].startswith(body[:BODY_PREFIX_BYTES].decode())
    assert f"{len(body)} bytes in all" in row["body"]
    stored = len(row["headers"]) + len(row["body"]) + len(row["reason"] or "")
    assert stored < ROW_MAX_BYTES and row["stored_bytes"] <= ROW_MAX_BYTES
    assert json.loads(row["headers"])["(omitted)"].endswith("more headers")


async def test_an_accepted_callback_keeps_its_body(settings: Settings) -> None:
    async with running(_settings(settings)) as (client, rt):
        await add_task(rt.db)
        sent = kie_body("task_abc")
        sent["data"]["note"] = "y" * 5000
        assert (await post_kie(client, sent)).status_code == 200
        (row,) = await rt.db.fetchall("SELECT body, body_size FROM callbacks")
    assert json.loads(row["body"]) == sent and row["body_size"] == len(json.dumps(sent))


async def test_refused_callbacks_are_throttled_per_address(settings: Settings) -> None:
    cfg = _settings(settings, callback_refusal_limit=RateLimit(3, 3600.0))
    async with running(cfg) as (client, rt):
        await add_task(rt.db)
        answers = [(await post_kie(client, kie_body("task_abc"), key="wrong")) for _ in range(5)]
        assert [r.status_code for r in answers] == [401, 401, 401, 429, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1
        assert await count(rt.db, "callbacks") == 3
        accepted = await post_kie(client, kie_body("task_abc"))  # the real one still gets in
        assert accepted.status_code == 200
        metrics = (await client.get("/metrics")).text
    assert 'taskhook_callbacks_total{provider="kie",verdict="throttled"} 2.0' in metrics


async def test_the_audit_table_is_capped_oldest_first(settings: Settings) -> None:
    cfg = _settings(settings, callback_refusal_limit=RateLimit(1000, 1.0),
                    callback_audit_max_bytes=20_000)  # fmt: skip
    async with running(cfg) as (client, rt):
        for i in range(40):
            body = json.dumps({"data": {"taskId": f"t{i}"}, "pad": "z" * 900}).encode()
            assert (await client.post("/callbacks/kie", content=body)).status_code == 401
        before = await count(rt.db, "callbacks")
        dropped = await AuditCapWorker(rt).run_once()
        assert dropped > 0 and await count(rt.db, "callbacks") == before - dropped
        assert await audit_bytes(rt.db) <= 20_000
        rows = await rt.db.fetchall("SELECT provider_task_id FROM callbacks ORDER BY id DESC")
        assert rows[0]["provider_task_id"] == "t39"  # the newest are kept
        assert await AuditCapWorker(rt).run_once() == 0
        rt.metrics.audit_dropped.inc(0)
        metrics = (await client.get("/metrics")).text
    assert "taskhook_callback_audit_dropped_total" in metrics


async def test_a_throttled_address_is_logged_once_not_per_request(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = _settings(settings, callback_refusal_limit=RateLimit(1, 3600.0))
    async with running(cfg) as (client, _rt):
        for _ in range(6):
            await client.post("/callbacks/kie", content=b"{}")
    said = [r for r in caplog.records if "too many refused callbacks from" in r.getMessage()]
    assert len(said) == 1


async def test_the_summary_bound_holds_in_bytes_for_any_characters(settings: Settings) -> None:
    headers = {f"x-{i}": b"\xff" * 3000 for i in range(30)}  # latin-1: 2 UTF-8 bytes each
    body = b"\xff\xfe" * 40_000  # not UTF-8: every byte of the prefix becomes U+FFFD
    async with running(_settings(settings)) as (client, rt):
        answer = await client.post("/callbacks/kie", content=body, headers=headers)
        assert answer.status_code == 400
        (row,) = await rt.db.fetchall("SELECT * FROM callbacks")
    texts = [row[k] or "" for k in ("headers", "body", "reason", "route", "provider", "id")]
    assert sum(len(t.encode()) for t in texts) + 16 * 4 <= ROW_MAX_BYTES
    assert row["stored_bytes"] <= ROW_MAX_BYTES and row["body_size"] == len(body)
