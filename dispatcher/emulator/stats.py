"""Request and callback counters, so a test can measure provider traffic per task."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any


class Stats:
    """Counts per provider/operation, per provider task id, and of callbacks."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every count."""
        self.requests: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.tasks: dict[str, dict[str, Any]] = {}
        self.callbacks: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()

    def enter(self, operation: str) -> None:
        """One more `operation` request is being answered (tracks the peak)."""
        self.in_flight[operation] += 1
        peak = max(self.max_in_flight[operation], self.in_flight[operation])
        self.max_in_flight[operation] = peak

    def leave(self, operation: str) -> None:
        """An `operation` request was answered."""
        self.in_flight[operation] -= 1

    def request(self, provider: str, operation: str, task_id: str | None = None) -> None:
        """Count one request (task_id: the task it names, when it names one)."""
        self.requests[provider][operation] += 1
        if task_id:
            self.task(provider, task_id, operation)

    def task(self, provider: str, task_id: str, operation: str) -> None:
        """Count one request against a task id."""
        entry = self.tasks.setdefault(task_id, {"provider": provider})
        entry[operation] = entry.get(operation, 0) + 1

    def callback(self, outcome: str) -> None:
        """Count a callback `attempt`, `sent`, `failed` (gave up), `dropped` (paused) or
        `progress` (a progress report sent)."""
        self.callbacks[outcome] += 1

    def to_json(self) -> dict[str, Any]:
        """The `GET /_emulator/stats` body."""
        return {
            "requests": {p: dict(ops) for p, ops in sorted(self.requests.items())},
            "total": sum(sum(ops.values()) for ops in self.requests.values()),
            "tasks": self.tasks,
            "callbacks": {k: self.callbacks.get(k, 0)
                          for k in ("attempts", "sent", "failed", "dropped", "progress")},
            "max_in_flight": dict(self.max_in_flight),
        }  # fmt: skip
