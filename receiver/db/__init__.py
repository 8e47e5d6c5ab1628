"""The database layer: one small interface over SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from receiver.db.database import Database, Executor, Row
from receiver.db.migrate import latest_version, migrate, schema_version
from receiver.db.opening import open_database

__all__ = [
    "Database",
    "Executor",
    "Row",
    "latest_version",
    "migrate",
    "open_database",
    "schema_version",
]
