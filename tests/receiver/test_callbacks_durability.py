"""Acknowledged callbacks survive crashes; audit rows, Standard Webhooks sources, metrics."""

from __future__ import annotations

import base64
import json
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from standardwebhooks.webhooks import Webhook
from starlette.routing import BaseRoute

from receiver.clock import now_ms
from receiver.runtime import Runtime
from receiver.settings import Settings
from receiver.store.inbox import claim_due
from receiver.store.tasks import find_by_provider_id
from receiver.workers import WorkerRunner
from tests.receiver.callback_helpers import (
    KIE_KEY,
    add_task,
    count,
    events,
    kie_body,
    post_kie,
    running,
)
from tests.support import wait_for


class FrozenAfterResponse:
    """Models an instance that dies right after its 2xx: the inbox worker never runs."""

    def routes(self) -> list[BaseRoute]:
        return []

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        runtime.runner = WorkerRunner()


async def test_crash_between_acknowledgement_and_processing(settings: Settings) -> None:
    first = settings.replace(kie_webhook_key=KIE_KEY, workers=False)
    async with running(first, FrozenAfterResponse()) as (client, rt):
        task, _ = await add_task(rt.db)
        assert (await post_kie(client, kie_body("task_abc"))).status_code == 200
        assert await count(rt.db, "inbox", "WHERE processed_at IS NULL") == 1
        assert await count(rt.db, "events") == 0
    # a fresh process on the same database, workers on: picked up at start-up, once
    async with running(settings.replace(kie_webhook_key=KIE_KEY)) as (client, rt):

        async def processed() -> bool:
            return await count(rt.db, "inbox", "WHERE processed_at IS NOT NULL") == 1

        await wait_for(processed, timeout_s=5)
        assert (await post_kie(client, kie_body("task_abc"))).json() == {"status": "duplicate"}
        await rt.runner.tick()
        (event,) = await events(rt.db)
        assert event["data"]["task_id"] == task["id"]


DEAD_LEASE_S = 1.5


async def test_row_leased_by_a_dead_worker_is_processed_once_after_the_lease(
    settings: Settings,
) -> None:
    first = settings.replace(kie_webhook_key=KIE_KEY, workers=False)
    async with running(first, FrozenAfterResponse()) as (client, rt):
        await add_task(rt.db)
        assert (await post_kie(client, kie_body("task_abc"))).status_code == 200
        # then "crashes"; a lease long enough that a loaded machine still sees it held
        claimed = await claim_due(rt.db, limit=10, lease_s=DEAD_LEASE_S)
        assert len(claimed) == 1
    async with running(settings.replace(kie_webhook_key=KIE_KEY, workers=False)) as (_c, rt):
        assert (await rt.runner.tick())["callbacks"] == 0  # still leased
        deadline = time.monotonic() + 5
        while await count(rt.db, "events") == 0 and time.monotonic() < deadline:
            await rt.runner.tick()
        await rt.runner.tick()
        assert len(await events(rt.db)) == 1


# --- the audit log -------------------------------------------------------------------------


async def test_audit_rows_are_listed_with_secrets_redacted(settings: Settings) -> None:
    cfg = settings.replace(kie_webhook_key=KIE_KEY, workers=False)
    async with running(cfg) as (client, rt):
        _, token = await add_task(rt.db)
        await post_kie(client, kie_body("task_abc"), token=token)
        await post_kie(client, kie_body("task_abc"), key="wrong", token=token)
        await client.post("/callbacks/kie", content=b"nope", headers={"Cookie": "sid=s3cret"})
        resp = await client.get("/api/callbacks")
        assert resp.status_code == 200
        items = resp.json()["items"]
        assert [i["verdict"] for i in items] == ["malformed", "unauthorized", "accepted"]
        stored = json.dumps(items)
        for secret in (token, KIE_KEY, "s3cret", "test-admin-token"):
            assert secret not in stored
        accepted = items[-1]
        assert accepted["headers"]["x-webhook-signature"] == "[redacted]"
        assert accepted["headers"]["authorization"] == "[redacted]"
        assert accepted["route"] == "/callbacks/kie/{token}"
        assert accepted["provider_task_id"] == "task_abc" and accepted["status_code"] == 200
        assert json.loads(accepted["body"])["data"]["taskId"] == "task_abc"
        page = (await client.get("/api/callbacks?verdict=unauthorized")).json()
        assert [i["status_code"] for i in page["items"]] == [401]
        first = (await client.get("/api/callbacks?limit=2")).json()
        rest = (await client.get(f"/api/callbacks?limit=2&cursor={first['next_cursor']}")).json()
        assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
        bad = await client.get("/api/callbacks?verdict=maybe")
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "verdict"
        assert (
            await client.get("/api/callbacks", headers={"Authorization": ""})
        ).status_code == 401


async def test_old_audit_and_inbox_rows_are_purged(settings: Settings) -> None:
    cfg = settings.replace(workers=False, callback_retention_s=3600)
    async with running(cfg) as (_client, rt):
        old = now_ms() - 2 * 3600 * 1000
        await rt.db.execute(
            "INSERT INTO callbacks (id, provider, route, headers, verdict, status_code, "
            "received_at) VALUES ('cbk_old', 'kie', '/callbacks/kie', '{}', 'malformed', 400, ?)",
            old,
        )
        await rt.db.execute(
            "INSERT INTO inbox (id, provider, provider_task_id, dedupe_key, body, received_at, "
            "next_attempt_at, processed_at) VALUES ('inb_old', 'kie', 't', 'k', '{}', ?, ?, ?)",
            old, old, old,
        )  # fmt: skip
        await rt.db.execute(
            "INSERT INTO callbacks (id, provider, route, headers, verdict, status_code, "
            "received_at) VALUES ('cbk_new', 'kie', '/callbacks/kie', '{}', 'malformed', 400, ?)",
            now_ms(),
        )
        await rt.runner.tick()
        assert [r["id"] for r in await rt.db.fetchall("SELECT id FROM callbacks")] == ["cbk_new"]
        assert await count(rt.db, "inbox") == 0


async def test_every_request_is_counted_by_provider_and_verdict(settings: Settings) -> None:
    cfg = settings.replace(kie_webhook_key=KIE_KEY, workers=False)
    async with running(cfg) as (client, rt):
        await add_task(rt.db)
        await post_kie(client, kie_body("task_abc"))
        await post_kie(client, kie_body("task_abc"), key="bad")
        await client.post("/callbacks/what-ever", content=b"{}")

        def sample(provider: str, verdict: str) -> float | None:
            labels = {"provider": provider, "verdict": verdict}
            return rt.metrics.registry.get_sample_value("taskhook_callbacks_total", labels)

        assert sample("kie", "accepted") == 1
        assert sample("kie", "unauthorized") == 1
        assert sample("(unknown)", "not_found") == 1


# --- Standard Webhooks sources -------------------------------------------------------------

WHSEC = "whsec_" + base64.b64encode(b"standard-webhooks-test-secret-32b").decode()


def generic_body(task_id: str, status: str = "succeeded") -> str:
    data = {"task_id": task_id, "status": status, "model": "upstream-model",
            "result": {"video_urls": ["https://cdn.example/a.mp4"]}}  # fmt: skip
    return json.dumps({"type": f"task.{status}", "data": data})


async def test_standard_webhooks_v1_source_signed_by_the_reference_library(
    settings: Settings,
) -> None:
    cfg = settings.replace(workers=False, standard_webhook_sources={"upstream": WHSEC})
    async with running(cfg) as (client, rt):
        body = generic_body("up_1")
        now = datetime.now(tz=UTC)
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(WHSEC).sign("msg_1", now, body),
        }
        resp = await client.post("/callbacks/upstream", content=body, headers=headers)
        assert resp.status_code == 200
        task = await find_by_provider_id(rt.db, "upstream", "up_1")
        assert task is not None and task["external"] == 1 and task["model"] == "upstream-model"
        (event,) = await events(rt.db)
        assert event["data"]["result"]["video_urls"] == ["https://cdn.example/a.mp4"]
        tampered = body.replace("a.mp4", "b.mp4")
        resp = await client.post("/callbacks/upstream", content=tampered, headers=headers)
        assert resp.status_code == 401


async def test_standard_webhooks_v1a_source_and_bad_status(settings: Settings) -> None:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    sources = {"edsrc": "whpk_" + base64.b64encode(public).decode()}
    cfg = settings.replace(workers=False, standard_webhook_sources=sources)

    def signed(body: str) -> dict[str, str]:
        ts = str(int(time.time()))
        sig = private.sign(f"m1.{ts}.{body}".encode())
        return {"webhook-id": "m1", "webhook-timestamp": ts,
                "webhook-signature": "v1a," + base64.b64encode(sig).decode()}  # fmt: skip

    async with running(cfg) as (client, rt):
        body = generic_body("ed_1", "failed")
        assert (
            await client.post("/callbacks/edsrc", content=body, headers=signed(body))
        ).status_code == 200
        (event,) = await events(rt.db)
        assert event["type"] == "task.failed"
        odd = json.dumps({"data": {"task_id": "ed_2", "status": "done"}})
        resp = await client.post("/callbacks/edsrc", content=odd, headers=signed(odd))
        assert resp.status_code == 400 and "data.status" in resp.json()["error"]["message"]
