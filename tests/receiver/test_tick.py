"""`POST /api/tick`: bounded passes of the registered workers, for an external scheduler."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from starlette.routing import BaseRoute

from receiver.app import create_app
from receiver.runtime import Runtime
from receiver.settings import Settings
from tests.support import ADMIN_TOKEN, SECRET_KEY, app_client


@dataclass
class Stage:
    """Moves up to `batch` items from `source` to `sink` per run_once."""

    name: str
    source: list[int]
    sink: list[int]
    batch: int = 10
    fail: bool = False

    async def run_once(self) -> int:
        if self.fail:
            raise RuntimeError("boom")
        taken = self.source[: self.batch]
        del self.source[: len(taken)]
        self.sink.extend(taken)
        return len(taken)


@dataclass
class Pipeline:
    """A part whose first worker consumes what the second produces (worst order for a tick)."""

    due: list[int] = field(default_factory=lambda: [1, 2, 3])
    ready: list[int] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    broken: bool = False

    def routes(self) -> list[BaseRoute]:
        return []

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        runtime.runner.add(Stage("deliver", self.ready, self.delivered))
        runtime.runner.add(Stage("poll", self.due, self.ready, batch=2))
        if self.broken:
            runtime.runner.add(Stage("broken", [], [], fail=True))


def make_settings(tmp_path: Path) -> Settings:
    return Settings(
        db=str(tmp_path / "t.db"), admin_token=ADMIN_TOKEN, secret_key=SECRET_KEY, workers=False
    )


async def test_tick_needs_the_admin_token(tmp_path: Path) -> None:
    pipeline = Pipeline()
    async with app_client(create_app(make_settings(tmp_path), [pipeline]), token=None) as client:
        assert (await client.post("/api/tick")).status_code == 401
        wrong = await client.post("/api/tick", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
    assert pipeline.delivered == [] and pipeline.due == [1, 2, 3]


async def test_tick_runs_passes_until_idle_and_answers_counts(tmp_path: Path) -> None:
    pipeline = Pipeline()
    async with app_client(create_app(make_settings(tmp_path), [pipeline])) as client:
        response = await client.post("/api/tick")
        assert response.status_code == 200
        assert response.json() == {
            "handled": {"deliver": 3, "poll": 3},
            "total": 6,
            "rounds": 4,
            "failed": [],
        }
        assert pipeline.delivered == [1, 2, 3]
        idle = (await client.post("/api/tick")).json()
        assert idle["total"] == 0 and idle["rounds"] == 1


async def test_tick_rounds_bound_the_work(tmp_path: Path) -> None:
    pipeline = Pipeline()
    async with app_client(create_app(make_settings(tmp_path), [pipeline])) as client:
        one = (await client.post("/api/tick", params={"rounds": "1"})).json()
        assert one["handled"] == {"deliver": 0, "poll": 2} and one["rounds"] == 1
        assert pipeline.delivered == []
        for bad in ("0", "51", "x"):
            refused = await client.post("/api/tick", params={"rounds": bad})
            assert refused.status_code == 422
            assert refused.json()["error"]["field"] == "rounds"


async def test_a_failing_worker_is_reported_and_the_others_still_run(tmp_path: Path) -> None:
    pipeline = Pipeline(broken=True)
    async with app_client(create_app(make_settings(tmp_path), [pipeline])) as client:
        body = (await client.post("/api/tick")).json()
    assert body["failed"] == ["broken"]
    assert body["handled"]["deliver"] == 3 and pipeline.delivered == [1, 2, 3]
