from __future__ import annotations

import asyncio

from receiver.clock import ManualClock
from receiver.workers import WorkerRunner
from tests.support import wait_for


class Counting:
    name = "counting"

    def __init__(self) -> None:
        self.passes = 0
        self.seen_marks: list[int] = []
        self.mark = 0

    async def run_once(self) -> int:
        self.passes += 1
        self.seen_marks.append(self.mark)
        await asyncio.sleep(0.01)
        return 0


async def test_concurrent_tick_soon_calls_share_passes_and_none_is_missed() -> None:
    worker = Counting()
    runner = WorkerRunner([worker])

    async def caller(i: int) -> int:
        worker.mark = i  # "work" this caller committed before asking for a tick
        await runner.tick_soon()
        return i

    done = await asyncio.gather(*(caller(i) for i in range(50)))
    assert sorted(done) == list(range(50))
    assert worker.passes <= 3  # a burst costs a few passes, not fifty
    assert worker.seen_marks[-1] == 49  # the last caller's work was seen by a later pass


async def test_a_worker_that_handled_work_wakes_the_others() -> None:
    calls: list[str] = []

    class Once:
        def __init__(self, name: str, work: int) -> None:
            self.name, self.work = name, work

        async def run_once(self) -> int:
            calls.append(self.name)
            handled, self.work = self.work, 0
            return handled

    clock = ManualClock()  # never advanced: an idle sleep could not end on its own
    runner = WorkerRunner([Once("producer", 1), Once("consumer", 0)], idle_s=30, clock=clock)
    runner.start()
    await wait_for(lambda: clock.sleepers == 2)  # both loops are idle now
    await runner.stop()
    assert calls.count("consumer") >= 2  # woken by the producer, not after a 30 s idle sleep


async def test_an_idle_worker_looks_again_when_its_idle_time_has_passed() -> None:
    passes: list[int] = []

    class Idle:
        name = "idle"

        async def run_once(self) -> int:
            passes.append(clock.now_ms())
            return 0

    clock = ManualClock(start_ms=0)
    runner = WorkerRunner([Idle()], idle_s=5, clock=clock)
    runner.start()
    await wait_for(lambda: clock.sleepers == 1)
    clock.advance(4)
    await asyncio.sleep(0)
    assert passes == [0]  # not yet: 5 s idle
    clock.advance(1)
    await wait_for(lambda: len(passes) == 2)
    await runner.stop()
    assert passes == [0, 5000]


async def test_tick_runs_each_worker_once_in_order_without_waiting() -> None:
    calls: list[str] = []

    class Named:
        def __init__(self, name: str, handled: int) -> None:
            self.name, self.handled = name, handled

        async def run_once(self) -> int:
            calls.append(self.name)
            return self.handled

    runner = WorkerRunner([Named("a", 2), Named("b", 0)], clock=ManualClock())
    assert await runner.tick() == {"a": 2, "b": 0}
    assert calls == ["a", "b"]
