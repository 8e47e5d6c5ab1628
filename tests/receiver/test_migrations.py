from __future__ import annotations

import pytest

from receiver.db import Database, latest_version, migrate, open_database, schema_version
from receiver.db.migrate import Migration, packaged_migrations
from receiver.errors import SchemaTooNew


async def test_fresh_database_is_migrated_to_latest(db_url: str) -> None:
    db = await open_database(db_url)
    try:
        assert await schema_version(db) == 0
        applied = await migrate(db)
        assert applied == [m.version for m in packaged_migrations()]
        assert await schema_version(db) == latest_version()
        assert await migrate(db) == []  # idempotent
        tables = ("tasks", "events", "deliveries", "attempts", "subscribers", "inbox", "callbacks")
        for table in tables:
            assert await db.fetchall(f"SELECT * FROM {table}") == []
    finally:
        await db.close()


async def test_upgrade_applies_only_newer_steps_and_keeps_data(db: Database) -> None:
    await db.execute(
        "INSERT INTO tasks (id, provider, model, input, status, mode, created_at, updated_at) "
        "VALUES ('tsk_1', 'kie', 'm', '{}', 'submitted', 'poll', 1, 1)"
    )
    extra = Migration(latest_version() + 1, "add_note", "ALTER TABLE tasks ADD COLUMN note TEXT;")
    applied = await migrate(db, [*packaged_migrations(), extra])
    assert applied == [extra.version]
    row = await db.fetchone("SELECT id, note FROM tasks")
    assert row == {"id": "tsk_1", "note": None}


async def test_database_newer_than_code_is_refused_with_advice(db: Database) -> None:
    await db.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)",
        latest_version() + 5,
    )
    with pytest.raises(SchemaTooNew, match="upgrade taskhook"):
        await migrate(db)


async def test_sqlite_uses_wal(tmp_path: object) -> None:
    db = await open_database(str(tmp_path / "w.db"))  # type: ignore[operator]
    try:
        row = await db.fetchone("PRAGMA journal_mode")
        assert row is not None and row["journal_mode"] == "wal"
    finally:
        await db.close()


async def test_0009_moves_the_send_schedule_out_of_the_poll_columns(db_url: str) -> None:
    db = await open_database(db_url)
    try:
        await migrate(db, [m for m in packaged_migrations() if m.version <= 8])
        insert = (
            "INSERT INTO tasks (id, provider, model, input, provider_task_id, status, mode, "
            "next_poll_at, poll_count, poll_lease_until, created_at, updated_at) "
            "VALUES (?, 'kie', 'm', '{}', ?, ?, 'poll', ?, ?, ?, 1, 1)"
        )
        await db.execute(insert, "tsk_unsent", None, "submitted", 5000, 2, 4000)
        await db.execute(insert, "tsk_failed", None, "failed", None, 3, None)
        await db.execute(insert, "tsk_sent", "p-1", "running", 7000, 4, 6000)
        assert await migrate(db) == [m.version for m in packaged_migrations() if m.version > 8]
        columns = (
            "id, send_next_at, send_attempts, send_lease_until, "
            "next_poll_at, poll_count, poll_lease_until"
        )
        rows = await db.fetchall(f"SELECT {columns} FROM tasks ORDER BY id")
        assert [tuple(r.values()) for r in rows] == [
            ("tsk_failed", None, 3, None, None, 0, None),
            ("tsk_sent", None, 0, None, 7000, 4, 6000),  # polls stay where they are
            ("tsk_unsent", 5000, 2, 4000, None, 0, None),
        ]
    finally:
        await db.close()
