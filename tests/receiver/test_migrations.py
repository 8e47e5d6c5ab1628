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
