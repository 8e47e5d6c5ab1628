"""The database layer: one small interface over SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from receiver.db.database import Database, Executor, Row, open_database
from receiver.db.migrate import latest_version, migrate, schema_version

__all__ = [
    "Database",
    "Executor",
    "Row",
    "latest_version",
    "migrate",
    "open_database",
    "schema_version",
]
