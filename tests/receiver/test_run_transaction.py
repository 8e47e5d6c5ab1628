"""`Database.run_transaction`: all or nothing, on both backends; one trip on SQLite."""

from __future__ import annotations

import asyncio

import pytest

from receiver.db import Database, Executor
from receiver.errors import DuplicateKey, StoreError
from receiver.store.tasks import NewTask, get_task, insert_task


async def test_committed_when_work_returns(db: Database) -> None:
    async def work(tx: Executor) -> str:
        row = await insert_task(tx, NewTask("kie", "sora-2", {"prompt": "x"}))
        await tx.execute("UPDATE tasks SET progress = 7 WHERE id = ?", row["id"])
        return str(row["id"])

    task_id = await db.run_transaction(work)
    row = await get_task(db, task_id)
    assert row is not None and row["progress"] == 7


async def test_rolled_back_when_work_raises(db: Database) -> None:
    task = NewTask("kie", "sora-2", {"prompt": "x"}, provider_task_id="p1")

    async def work(tx: Executor) -> None:
        await insert_task(tx, task)
        await insert_task(tx, NewTask("kie", "sora-2", {}, provider_task_id="p1"))  # duplicate

    with pytest.raises(DuplicateKey):
        await db.run_transaction(work)
    assert await get_task(db, task.id) is None  # the first insert went with the second
    assert await db.run_transaction(lambda tx: insert_task(tx, task))  # and the db still works


async def test_sqlite_refuses_work_that_awaits_anything_else(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("only SQLite runs the transaction outside the event loop")

    async def work(tx: Executor) -> None:
        await insert_task(tx, NewTask("kie", "sora-2", {}, provider_task_id="p2"))
        await asyncio.sleep(0)

    with pytest.raises(StoreError, match="awaited something other than the database"):
        await db.run_transaction(work)
    assert await db.fetchone("SELECT id FROM tasks WHERE provider_task_id = 'p2'") is None
