"""In-memory emulated tasks on the event-loop clock: queued -> running -> succeeded/failed."""

from __future__ import annotations

import asyncio
import contextlib
import random
import string
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from dispatcher.emulator.config import EmulatorConfig

Phase = Literal["queued", "running", "succeeded", "failed"]
QUEUED_FRACTION = 0.2


@dataclass(frozen=True)
class FailReason:
    """What a provider says when generation fails."""

    code: str
    message: str


@dataclass(eq=False)
class EmuTask:
    """One task a client created; its phase is derived from the clock on every read."""

    id: str
    provider: str
    model: str
    request: dict[str, Any]
    seq: int
    created_s: float
    started: float
    due: float
    fails: bool
    reason: FailReason
    callback_url: str | None = None
    kind: str = ""
    finished: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def quirky(self) -> bool:
        """Every other task uses the alternative shapes (when quirks are on)."""
        return self.seq % 2 == 0

    def fraction(self, now: float) -> float:
        """How far along the task is, 0.0-1.0."""
        span = self.due - self.started
        if span <= 0:
            return 1.0
        return min(1.0, max(0.0, (now - self.started) / span))

    def phase(self, now: float) -> Phase:
        """Where the task is at loop time `now`."""
        if now >= self.due:
            return "failed" if self.fails else "succeeded"
        return "queued" if self.fraction(now) < QUEUED_FRACTION else "running"

    def progress(self, now: float) -> int:
        """Percent done: 0 queued, 1-99 running, 100 succeeded, 0 failed."""
        phase = self.phase(now)
        if phase == "succeeded":
            return 100
        if phase in ("queued", "failed"):
            return 0
        return min(99, max(1, int(self.fraction(now) * 100)))

    @property
    def created_ms(self) -> int:
        """Creation time, epoch milliseconds."""
        return int(self.created_s * 1000)

    @property
    def completed_s(self) -> float:
        """Wall-clock time of the final state (meaningful once final)."""
        return self.created_s + max(0.0, self.due - self.started)

    @property
    def completed_ms(self) -> int:
        """Completion time, epoch milliseconds."""
        return int(self.completed_s * 1000)


class TaskStore:
    """All emulated tasks of one emulator instance."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self._tasks: dict[str, EmuTask] = {}
        self._seq = 0

    @staticmethod
    def now() -> float:
        """The event-loop clock (seconds)."""
        return asyncio.get_running_loop().time()

    def token(self, length: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
        """A random string for ids (seeded by `config.seed`)."""
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def create(
        self,
        task_id: str,
        *,
        provider: str,
        model: str,
        request: dict[str, Any],
        reasons: Sequence[FailReason],
        callback_url: str | None = None,
        kind: str = "",
    ) -> EmuTask:
        """Register a new task that becomes final `delay_s` from now."""
        self._seq += 1
        now = self.now()
        task = EmuTask(
            id=task_id, provider=provider, model=model, request=request, seq=self._seq,
            created_s=time.time(), started=now, due=now + self.config.delay_s,
            fails=self.rng.random() < self.config.fail_rate,
            reason=self.rng.choice(list(reasons)), callback_url=callback_url, kind=kind,
        )  # fmt: skip
        self._tasks[task_id] = task
        if self.config.delay_s <= 0:
            task.finished.set()
        return task

    def get(self, provider: str, task_id: str) -> EmuTask | None:
        """A task of `provider`, or None."""
        task = self._tasks.get(task_id)
        return task if task is not None and task.provider == provider else None

    def all(self, provider: str) -> list[EmuTask]:
        """Every task of `provider`, oldest first."""
        return [task for task in self._tasks.values() if task.provider == provider]

    def find(self, task_id: str) -> EmuTask | None:
        """A task of any provider, or None."""
        return self._tasks.get(task_id)

    def finish(self, task: EmuTask, fail: bool | None = None) -> bool:
        """Make a running task final now; False when it already was final."""
        now = self.now()
        if task.phase(now) in ("succeeded", "failed"):
            return False
        task.due = now
        if fail is not None:
            task.fails = fail
        task.finished.set()
        return True

    async def wait_final(self, task: EmuTask) -> None:
        """Return once `task` is final (on schedule or finished early)."""
        while True:
            remaining = task.due - self.now()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task.finished.wait(), timeout=remaining)
