"""The retention worker and task erasure: the store does not grow forever.

The worker looks for expired rows every `check_every_s`; while it finds full batches it
keeps going (one short transaction each), then rests. `DELETE /api/tasks/{id}` erases one
task's content on request and keeps an anonymous tombstone.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.clock import now_ms
from receiver.db import Database
from receiver.metrics import Metrics
from receiver.runtime import Runtime
from receiver.store.erasure import erase_task
from receiver.store.retention import Pruned, prune_taskless_events, prune_tasks
from receiver.store.tasks import task_to_api

log = logging.getLogger(__name__)

DEFAULT_BATCH = 200
DEFAULT_CHECK_EVERY_S = 600.0
DAY_MS = 86_400_000


class RetentionWorker:
    """Deletes finished tasks (and their rows) older than `retention_days`, a batch a pass."""

    name = "retention"

    def __init__(
        self,
        db: Database,
        retention_days: float,
        metrics: Metrics | None = None,
        *,
        batch_size: int = DEFAULT_BATCH,
        check_every_s: float = DEFAULT_CHECK_EVERY_S,
    ) -> None:
        self.db, self.retention_days, self.metrics = db, retention_days, metrics
        self.batch_size = batch_size
        self.check_every_s = check_every_s
        self._next_check_ms = 0

    async def run_once(self) -> int:
        """One batch of tasks, else one of task-less events; 0 when resting or done."""
        now = now_ms()
        if self.retention_days <= 0 or now < self._next_check_ms:
            return 0
        cutoff = now - int(self.retention_days * DAY_MS)
        pruned = await prune_tasks(self.db, cutoff, self.batch_size)
        if pruned.picked < self.batch_size:
            more = await prune_taskless_events(self.db, cutoff, self.batch_size)
            pruned.picked += more.picked
            for table, count in more.rows.items():
                pruned.add(table, count)
        self._observe(pruned)
        if pruned.picked < self.batch_size:
            self._next_check_ms = now + int(self.check_every_s * 1000)
        return sum(pruned.rows.values())

    def _observe(self, pruned: Pruned) -> None:
        if not pruned.rows:
            return
        log.info("retention: deleted %s", ", ".join(f"{n} {t}" for t, n in pruned.rows.items()))
        if self.metrics is not None:
            for table, count in pruned.rows.items():
                self.metrics.retention_pruned.labels(table).inc(count)


async def erase(request: Request) -> Response:
    """`DELETE /api/tasks/{id}`: erase the task's content -> 200 with the tombstone."""
    runtime: Runtime = request.app.state.runtime
    row = await erase_task(runtime.db, request.path_params["id"])
    runtime.metrics.tasks_erased.inc()
    log.info("task %s erased on request", row["id"], extra={"task_id": row["id"]})
    return JSONResponse(task_to_api(row))


class RetentionPart:
    """Retention (a background worker) and erasure (an admin route)."""

    def routes(self) -> list[BaseRoute]:
        """`DELETE /api/tasks/{id}`."""
        return [Route("/api/tasks/{id}", erase, methods=["DELETE"])]

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        """Register the worker (it rests when TASKHOOK_RETENTION_DAYS is 0)."""
        worker = RetentionWorker(runtime.db, runtime.settings.retention_days, runtime.metrics)
        runtime.runner.add(worker)
