"""`open_database()`: the backend a database URL names (the only file that knows both)."""

from __future__ import annotations

from receiver.db.database import Database


async def open_database(url: str, *, pool_size: int = 10) -> Database:
    """Open `url`: a `postgresql://` URL or a SQLite file path."""
    if url.startswith(("postgresql://", "postgres://")):
        from receiver.db.postgres import PostgresDatabase  # asyncpg only when it is used

        return await PostgresDatabase.connect(url, pool_size=pool_size)
    from receiver.db.sqlite import SqliteDatabase

    return await SqliteDatabase.connect(url)
