"""Group commit: many small independent writes from concurrent requests, one transaction.

A request that must not be acknowledged before its row is durable (an accepted callback)
calls `await writer.write([...statements])`; it returns only once a transaction holding
those statements has committed. While one commit is in flight, new writes queue up and
go together in the next, so the cost of a commit (an fsync on SQLite) is shared. If a
batch fails, its writes are retried one transaction each, so one bad write fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from receiver.db.database import Database, Statement
from receiver.errors import StoreError

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 512


@dataclass
class _Pending:
    statements: Sequence[Statement]
    counted: bool = False
    done: asyncio.Future[list[int]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def finish(self, counts: list[int]) -> None:
        """Wake the writer with the row counts of its own statements (when it asked)."""
        if not self.done.done():
            self.done.set_result(counts if self.counted else [])

    def fail(self, exc: BaseException) -> None:
        """Wake the writer with the error its statements met."""
        if not self.done.done():
            self.done.set_exception(exc)


class GroupCommitter:
    """Batches writes into shared transactions; see the module docstring."""

    def __init__(self, db: Database, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        """Start the flusher (inside a running loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="group-commit")

    async def write(self, statements: Sequence[Statement]) -> None:
        """Return once `statements` are committed (in order, atomically together)."""
        await self._submit(_Pending(statements))

    async def write_counted(self, statements: Sequence[Statement]) -> list[int]:
        """`write`, returning how many rows each of `statements` changed."""
        return await self._submit(_Pending(statements, counted=True))

    async def _submit(self, pending: _Pending) -> list[int]:
        if self._closed:
            raise StoreError("the writer is closed")
        if self._task is None:
            await self._commit_singly([pending])
        else:
            self._queue.put_nowait(pending)
        return await asyncio.shield(pending.done)

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        self._closed = True
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._flush(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _flush(self, batch: list[_Pending]) -> None:
        try:
            counts = await self._db.write_batch([s for p in batch for s in p.statements])
        except Exception:
            log.warning("group commit of %d writes failed; retrying one by one", len(batch))
            await self._commit_singly(batch)
            return
        start = 0
        for pending in batch:
            end = start + len(pending.statements)
            pending.finish(counts[start:end] if pending.counted else [])
            start = end

    async def _commit_singly(self, batch: list[_Pending]) -> None:
        for pending in batch:
            try:
                counts = await self._db.write_batch(pending.statements)
            except Exception as exc:
                pending.fail(exc)
                continue
            pending.finish(counts)
