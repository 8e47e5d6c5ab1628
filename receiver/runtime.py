"""What the running app holds: settings, the database, the workers and completion hooks.

Built in the app's lifespan, never at import time; routes reach it as
`request.app.state.runtime`.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Protocol

from starlette.routing import BaseRoute

from receiver.clock import Clock, SystemClock
from receiver.db import Database
from receiver.db.group_commit import GroupCommitter
from receiver.metrics import Metrics
from receiver.settings import Settings
from receiver.store.completion import CompletionHook
from receiver.throttle import AddressThrottle, Throttles
from receiver.workers import WorkerRunner


@dataclass
class Runtime:
    """The live services of one app instance."""

    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    runner: WorkerRunner = field(init=False)
    completion_hooks: list[CompletionHook] = field(default_factory=list)
    metrics: Metrics = field(default_factory=Metrics)
    writer: GroupCommitter | None = None
    throttles: Throttles = field(init=False)

    def __post_init__(self) -> None:
        self.runner = WorkerRunner(clock=self.clock)
        refusals, failures = self.settings.callback_refusal_limit, self.settings.auth_failure_limit
        self.throttles = Throttles(
            callback_refusals=AddressThrottle(refusals.requests, refusals.per_s),
            auth_failures=AddressThrottle(failures.requests, failures.per_s),
        )

    def group_writer(self) -> GroupCommitter:
        """The shared group-commit writer (for durable-before-2xx request writes)."""
        if self.writer is None:
            self.writer = GroupCommitter(self.db)
        return self.writer


class Part(Protocol):
    """A part of the app: routes, plus workers and services started with the app.

    A part gets the other parts' services as constructor arguments (`Slot`s, see
    `receiver/slot.py`) and offers its own the same way; `start()` fills them.
    """

    def routes(self) -> list[BaseRoute]:
        """HTTP routes this part serves."""

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        """Register workers/services; push clean-up onto `stack`."""
