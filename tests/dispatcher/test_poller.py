"""The poller: schedule kept in the store, progress, completion, errors, deadline."""

from __future__ import annotations

import asyncio

from dispatcher.providers.base import ProviderRejected, ProviderUnavailable
from receiver.clock import Clock, ManualClock, SystemClock, now_ms
from receiver.db import Database
from receiver.settings import Settings
from receiver.statuses import ACTIVE
from tests.dispatcher.fake_adapter import FakeAdapter
from tests.dispatcher.harness import FAST, Harness, harness, video


async def poll_until_final(h: Harness, task_id: str, rounds: int = 50) -> dict[str, object]:
    """Tick (moving a ManualClock on 20 ms between ticks, else waiting that long)."""
    for _ in range(rounds):
        await h.tick()
        task = await h.task(task_id)
        if task["status"] not in ACTIVE:
            return task
        if isinstance(h.runtime.clock, ManualClock):
            h.runtime.clock.advance(0.02)
        else:
            await asyncio.sleep(0.02)
    raise AssertionError(f"task {task_id} never ended")


async def next_poll_in_s(db: Database, task_id: str, clock: Clock | None = None) -> float:
    row = await db.fetchone("SELECT next_poll_at FROM tasks WHERE id = ?", task_id)
    assert row is not None
    return (row["next_poll_at"] - (clock or SystemClock()).now_ms()) / 1000


async def test_polls_store_progress_then_complete_with_one_event(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.extend(["running", "running", {"video_urls": ["https://cdn/x.mp4"]}])
    async with harness(settings.replace(**FAST), adapter) as h:
        task = (await h.submit(video())).json()
        done = await poll_until_final(h, task["id"])
        assert done["status"] == "succeeded" and done["progress"] == 100
        assert done["result"] == {"video_urls": ["https://cdn/x.mp4"]} and done["source"] == "poll"
        polls = [e for e in done["history"] if e["kind"] == "poll"]
        assert [p["detail"]["progress"] for p in polls] == [40, 40]
        [event] = await h.events(task["id"])
        assert event["type"] == "task.succeeded" and event["data"]["source"] == "poll"
        assert len(adapter.queries) == 3
        await h.tick()
        assert len(adapter.queries) == 3  # a finished task is never polled again


async def test_running_progress_is_visible_before_completion(settings: Settings) -> None:
    async with harness(settings.replace(poll_min_interval_s=0.01), clock=ManualClock()) as h:
        task = (await h.submit(video())).json()
        await h.advance_and_tick(0.02)
        shown = await h.task(task["id"])
        assert shown["status"] == "running" and shown["progress"] == 40


async def test_first_poll_waits_for_the_providers_estimate(
    settings: Settings, db: Database
) -> None:
    async with harness(settings, FakeAdapter(estimate_s=30), db=db) as h:
        task = (await h.submit(video())).json()
        assert 29.5 <= await next_poll_in_s(db, task["id"]) <= 33.5
        await h.tick()
        assert h.adapter.queries == []


async def test_polling_backs_off_between_the_bounds(settings: Settings) -> None:
    tuned = settings.replace(poll_min_interval_s=0.01, poll_max_interval_s=0.08)
    async with harness(tuned, clock=ManualClock()) as h:
        task = (await h.submit(video())).json()
        for _ in range(6):
            await h.advance_and_tick(0.1)
        history = (await h.task(task["id"]))["history"]
        gaps = [e["detail"]["next_in_s"] for e in history if e["kind"] == "poll"]
        assert len(gaps) == 6
        # 0.02, 0.04 (+/-20 % jitter), then capped at 0.08 (jitter never exceeds the cap)
        assert 0.016 <= gaps[0] <= 0.024 and 0.032 <= gaps[1] <= 0.048
        assert all(0.064 <= g <= 0.08 for g in gaps[2:])


async def test_callback_tasks_get_only_a_slow_safety_net_poll(
    settings: Settings, db: Database
) -> None:
    tuned = settings.replace(public_url="https://hooks.example", poll_safety_interval_s=300.0)
    async with harness(tuned, FakeAdapter(callback=True), db=db) as h:
        task = (await h.submit(video())).json()
        assert 240 <= await next_poll_in_s(db, task["id"]) <= 360


async def test_transient_query_errors_back_off_honouring_retry_after(
    settings: Settings, db: Database
) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.append(ProviderUnavailable("fake", "rate limited", retry_after_s=20))
    clock = ManualClock()
    async with harness(settings.replace(poll_min_interval_s=0.01), adapter, db=db,
                       clock=clock) as h:  # fmt: skip
        task = (await h.submit(video())).json()
        await h.advance_and_tick(0.02)
        assert 19 <= await next_poll_in_s(db, task["id"], clock) <= 21
        shown = await h.task(task["id"])
        assert shown["status"] == "submitted" and shown["history"][-1]["kind"] == "poll_error"


async def test_a_repeated_permanent_query_error_fails_the_task(settings: Settings) -> None:
    adapter = FakeAdapter()
    unknown = ProviderRejected("fake", "recordInfo is null", code=422)
    adapter.query_answers.extend([unknown, unknown, unknown])
    async with harness(settings.replace(**FAST, poll_max_rejections=3), adapter) as h:
        task = (await h.submit(video())).json()
        done = await poll_until_final(h, task["id"])
        assert done["status"] == "failed" and done["source"] == "poll"
        assert done["error"] == {"code": "provider_422", "message": "recordInfo is null"}
        assert len(adapter.queries) == 3


async def test_a_single_permanent_query_error_is_survived(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.extend([ProviderRejected("fake", "recordInfo is null", code=422),
                                  "succeeded"])  # fmt: skip
    async with harness(settings.replace(**FAST), adapter) as h:
        task = (await h.submit(video())).json()
        assert (await poll_until_final(h, task["id"]))["status"] == "succeeded"


async def test_past_the_deadline_the_task_expires_with_one_event(settings: Settings) -> None:
    async with harness(settings.replace(**FAST, task_deadline_s=0.2)) as h:
        task = (await h.submit(video())).json()
        done = await poll_until_final(h, task["id"])
        assert done["status"] == "expired"
        assert done["error"]["code"] == "deadline_exceeded"
        [event] = await h.events(task["id"])
        assert event["type"] == "task.expired"


async def test_a_task_found_final_at_the_deadline_is_not_expired(settings: Settings) -> None:
    adapter = FakeAdapter(estimate_s=5)
    adapter.query_answers.append("succeeded")
    async with harness(settings, adapter) as h:
        task = (await h.submit(video())).json()
        # the deadline passes (set in the store, not waited for: a slow submit must not
        # make the test expire the task before the poller ever sees it)
        await h.runtime.db.execute(
            "UPDATE tasks SET deadline_at = ? WHERE id = ?", now_ms() - 1, task["id"]
        )
        await h.tick()  # due by deadline, long before the estimate
        assert (await h.task(task["id"]))["status"] == "succeeded"


async def test_provider_failure_found_by_polling_fails_the_task(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.append("failed")
    async with harness(settings.replace(**FAST), adapter) as h:
        task = (await h.submit(video())).json()
        done = await poll_until_final(h, task["id"])
        assert done["status"] == "failed" and done["error"]["code"] == "provider_501"
        [event] = await h.events(task["id"])
        assert event["type"] == "task.failed"


async def test_requests_are_counted_in_metrics(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.append("succeeded")
    async with harness(settings.replace(**FAST), adapter) as h:
        task = (await h.submit(video())).json()
        await poll_until_final(h, task["id"])
        metrics = h.runtime.metrics
        sample = metrics.registry.get_sample_value
        labels = {"provider": "fake", "operation": "submit", "outcome": "ok"}
        assert sample("taskhook_provider_requests_total", labels) == 1
        assert sample("taskhook_provider_requests_total", {**labels, "operation": "query"}) == 1
        done = {"provider": "fake", "status": "succeeded"}
        assert sample("taskhook_tasks_completed_total", done) == 1
