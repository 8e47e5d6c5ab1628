"""Progress estimates while the provider reports none: against its estimated_time, else the
median duration of the model's recent tasks; gone once real progress arrives."""

from __future__ import annotations

from receiver.provider_state import ProviderState
from receiver.settings import Settings
from receiver.store.estimate import progress_estimate
from tests.dispatcher.fake_adapter import FakeAdapter
from tests.dispatcher.harness import FAST, harness, video


async def test_estimate_uses_the_providers_estimated_time(settings: Settings) -> None:
    adapter = FakeAdapter(estimate_s=12.0)
    adapter.query_answers.append(ProviderState("fake-1", "running", 40))
    async with harness(settings, adapter) as h:
        task = (await h.submit(video())).json()
        estimate = (await h.task(task["id"]))["estimate"]
        assert estimate is not None and estimate["estimated"] is True
        assert estimate["expected_s"] == 12.0 and 0 <= estimate["progress"] <= 95
        row = await h.runtime.db.fetchone("SELECT * FROM tasks")
        assert row is not None
        half = progress_estimate(row, now=row["started_at"] + 6000)
        late = progress_estimate(row, now=row["started_at"] + 60_000)
        assert half is not None and half["progress"] == 50
        assert late is not None and late["progress"] == 95  # never claims done
        await h.runtime.db.execute("UPDATE tasks SET next_poll_at = 0")
        await h.tick()
        polled = await h.task(task["id"])
    assert polled["progress"] == 40 and polled["estimate"] is None


async def test_without_a_provider_estimate_the_models_median_is_used(settings: Settings) -> None:
    adapter = FakeAdapter()
    adapter.query_answers.extend(["succeeded"] * 3)
    async with harness(settings.replace(**FAST), adapter) as h:
        first = (await h.submit(video())).json()
        assert (await h.task(first["id"]))["estimate"] is None  # nothing to go by yet
        for _ in range(2):
            await h.submit(video())
        for _ in range(50):
            await h.tick()
            rows = await h.runtime.db.fetchall("SELECT status FROM tasks")
            if all(r["status"] == "succeeded" for r in rows):
                break
        durations = iter([10_000, 30_000, 20_000])
        for row in await h.runtime.db.fetchall("SELECT id, started_at FROM tasks"):
            await h.runtime.db.execute("UPDATE tasks SET completed_at = ? WHERE id = ?",
                                       row["started_at"] + next(durations), row["id"])  # fmt: skip
        task = (await h.submit(video())).json()
        estimate = (await h.task(task["id"]))["estimate"]
    assert estimate is not None and estimate["expected_s"] == 20.0


def test_submit_wait_shows_the_estimate_marked_as_such() -> None:
    from dispatcher.cli.submit import _describe, shown_progress

    estimate = {"progress": 40, "expected_s": 12.0, "estimated": True}
    task = {"id": "tsk_1", "provider": "foxapi", "model": "sora-2", "status": "running",
            "progress": 0, "estimate": estimate}  # fmt: skip
    assert shown_progress(task) == 40 and "estimate" in _describe(task)
    reported = {**task, "progress": 70, "estimate": None}
    assert shown_progress(reported) == 70 and "estimate" not in _describe(reported)
