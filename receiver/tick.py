"""One external tick: a few bounded passes of every worker, for serverless deployments.

`POST /api/tick` and `taskhook tick` call this when background workers are off
(`TASKHOOK_WORKERS=0`). A pass runs each worker's `run_once()` in registration order;
another pass follows while the last one found work (a poll that completes a task leaves
a delivery that is due at once), up to `max_rounds` and a time budget, so one tick stays
short enough for a scheduler's or a function's timeout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from receiver.workers import WorkerRunner

DEFAULT_MAX_ROUNDS = 5
MAX_ROUNDS_LIMIT = 50
DEFAULT_BUDGET_S = 20.0


@dataclass
class TickResult:
    """What one tick handled, per worker, and which workers failed."""

    handled: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    rounds: int = 0

    @property
    def total(self) -> int:
        """Items handled by all workers together."""
        return sum(self.handled.values())

    def add(self, counts: dict[str, int]) -> None:
        """Fold in one pass (a count of -1 means the worker raised; it is logged)."""
        self.rounds += 1
        for name, count in counts.items():
            self.handled[name] = self.handled.get(name, 0) + max(count, 0)
            if count < 0 and name not in self.failed:
                self.failed.append(name)

    def to_api(self) -> dict[str, Any]:
        """The JSON answer of `POST /api/tick`."""
        return {
            "handled": self.handled,
            "total": self.total,
            "rounds": self.rounds,
            "failed": self.failed,
        }


async def run_tick(
    runner: WorkerRunner,
    *,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    budget_s: float = DEFAULT_BUDGET_S,
) -> TickResult:
    """Run passes until one finds nothing to do, `max_rounds` is reached or time runs out."""
    result = TickResult()
    started = time.monotonic()
    for _ in range(max(1, max_rounds)):
        counts = await runner.tick()
        result.add(counts)
        if not any(count > 0 for count in counts.values()):
            break
        if time.monotonic() - started >= budget_s:
            break
    return result
