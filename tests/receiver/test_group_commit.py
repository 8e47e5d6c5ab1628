from __future__ import annotations

import asyncio

import pytest

from receiver.db import Database
from receiver.db.group_commit import GroupCommitter
from receiver.errors import StoreError

INSERT = "INSERT INTO events (id, type, payload, created_at) VALUES (?, 'x', '{}', ?)"


async def test_concurrent_writes_all_commit_and_share_transactions(db: Database) -> None:
    writer = GroupCommitter(db)
    writer.start()
    commits = 0
    real = db.write_batch

    async def counting(statements):  # type: ignore[no-untyped-def]
        nonlocal commits
        commits += 1
        await real(statements)

    db.write_batch = counting  # type: ignore[method-assign]
    try:
        await asyncio.gather(*(writer.write([(INSERT, (f"e{i}", i))]) for i in range(300)))
    finally:
        db.write_batch = real  # type: ignore[method-assign]
        await writer.close()
    rows = await db.fetchall("SELECT id FROM events")
    assert len(rows) == 300
    assert 0 < commits < 300  # batched: fewer transactions than writes


async def test_a_failing_write_fails_alone(db: Database) -> None:
    writer = GroupCommitter(db)
    writer.start()
    await writer.write([(INSERT, ("dup", 0))])
    results = await asyncio.gather(
        *(writer.write([(INSERT, (f"ok{i}", i))]) for i in range(5)),
        writer.write([(INSERT, ("dup", 1))]),
        return_exceptions=True,
    )
    await writer.close()
    assert [r for r in results if isinstance(r, Exception)] and results[:5] == [None] * 5
    assert isinstance(results[5], StoreError)
    ids = {r["id"] for r in await db.fetchall("SELECT id FROM events")}
    assert ids == {"dup", "ok0", "ok1", "ok2", "ok3", "ok4"}


async def test_closed_writer_refuses(db: Database) -> None:
    writer = GroupCommitter(db)
    writer.start()
    await writer.close()
    with pytest.raises(StoreError):
        await writer.write([(INSERT, ("late", 0))])
