"""`GET /metrics`: scraped and parsed the way Prometheus would, on both backends."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from receiver.app import create_app
from receiver.clock import now_ms
from receiver.db import Executor
from receiver.ids import new_id
from receiver.settings import Settings
from receiver.store import Outcome, record_completion
from receiver.store.tasks import NewTask, insert_task
from tests.support import ADMIN_TOKEN, app_client


def parse(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """{sample name: {sorted labels: value}} from the exposition text."""
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            out.setdefault(sample.name, {})[labels] = sample.value
    return out


async def add_inbox(db: Executor, *, processed: bool) -> None:
    now = now_ms()
    await db.execute(
        "INSERT INTO inbox (id, provider, provider_task_id, dedupe_key, body, received_at, "
        "next_attempt_at, processed_at) VALUES (?, 'kie', 'p', ?, '{}', ?, ?, ?)",
        new_id("inb"), new_id("key"), now, now, now if processed else None,
    )  # fmt: skip


async def add_delivery(db: Executor, state: str, created_at: int) -> None:
    await db.execute(
        "INSERT INTO deliveries (id, event_id, subscriber_id, state, due_at, created_at, "
        "updated_at) VALUES (?, ?, 'sub_x', ?, ?, ?, ?)",
        new_id("dlv"), new_id("evt"), state, created_at, created_at, created_at,
    )  # fmt: skip


async def fill_store(db: Executor) -> None:
    now = now_ms()
    await insert_task(db, NewTask("kie", "sora-2", {}, next_poll_at=now - 1000))
    await insert_task(db, NewTask("kie", "sora-2", {}, status="running", next_poll_at=now - 5))
    await insert_task(db, NewTask("kie", "sora-2", {}, next_poll_at=now + 600_000))
    await insert_task(db, NewTask("foxapi", "veo3", {}, next_poll_at=None))
    await insert_task(db, NewTask("kie", "sora-2", {}, status="failed", next_poll_at=now - 1))
    await add_inbox(db, processed=False)
    await add_inbox(db, processed=False)
    await add_inbox(db, processed=True)
    await add_delivery(db, "pending", now - 30_000)
    await add_delivery(db, "pending", now)
    await add_delivery(db, "dead", now)
    await add_delivery(db, "delivered", now)


async def test_metrics_expose_counters_and_store_gauges(settings: Settings) -> None:
    app = create_app(settings)
    async with app_client(app, token=None) as client:
        runtime = app.state.runtime
        await fill_store(runtime.db)
        done = await insert_task(runtime.db, NewTask("foxapi", "veo3", {}, next_poll_at=1))
        await record_completion(runtime.db, Outcome(done["id"], "succeeded", "poll"))
        runtime.metrics.callbacks.labels("kie", "accepted").inc(3)
        runtime.metrics.delivery_latency.labels("webhook").observe(0.2)

        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = parse(response.text)
    assert samples["taskhook_callbacks_total"][(("provider", "kie"), ("verdict", "accepted"))] == 3
    assert samples["taskhook_delivery_latency_seconds_count"][(("kind", "webhook"),)] == 1
    for family in ("taskhook_tasks_completed", "taskhook_provider_requests", "taskhook_deliveries"):
        assert family in {f.name for f in text_string_to_metric_families(response.text)}
    assert samples["taskhook_deliveries_pending"][()] == 2
    assert samples["taskhook_deliveries_dead"][()] == 1
    assert 29 <= samples["taskhook_deliveries_oldest_pending_age_seconds"][()] < 120
    assert samples["taskhook_polls_due"][()] == 2  # not the future one, not the failed one
    assert samples["taskhook_inbox_unprocessed"][()] == 2
    assert samples["taskhook_tasks"] == {
        (("provider", "foxapi"), ("status", "submitted")): 1,
        (("provider", "foxapi"), ("status", "succeeded")): 1,
        (("provider", "kie"), ("status", "failed")): 1,
        (("provider", "kie"), ("status", "running")): 1,
        (("provider", "kie"), ("status", "submitted")): 2,
    }


async def test_empty_store_reports_zeros(settings: Settings) -> None:
    async with app_client(create_app(settings), token=None) as client:
        samples = parse((await client.get("/metrics")).text)
    for name in ("pending", "dead", "oldest_pending_age_seconds"):
        assert samples[f"taskhook_deliveries_{name}"][()] == 0
    assert samples["taskhook_polls_due"][()] == 0
    assert samples["taskhook_inbox_unprocessed"][()] == 0
    assert "taskhook_tasks" not in samples


async def test_metrics_token_when_configured(settings: Settings) -> None:
    app = create_app(settings.replace(metrics_token="scrape-token-0123456789"))
    async with app_client(app, token=None) as client:

        async def get(token: str | None) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return await client.get("/metrics", headers=headers)

        missing = await get(None)
        assert missing.status_code == 401
        assert "TASKHOOK_METRICS_TOKEN" in missing.json()["error"]["message"]
        assert (await get("wrong-token")).status_code == 403
        assert (await get("scrape-token-0123456789")).status_code == 200
        assert (await get(ADMIN_TOKEN)).status_code == 200
