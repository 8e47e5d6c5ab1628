from __future__ import annotations

import asyncio

from receiver.workers import WorkerRunner


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

    runner = WorkerRunner([Once("producer", 1), Once("consumer", 0)], idle_s=30)
    runner.start()
    await asyncio.sleep(0.1)
    await runner.stop()
    assert calls.count("consumer") >= 2  # woken by the producer, not after a 30 s idle sleep
