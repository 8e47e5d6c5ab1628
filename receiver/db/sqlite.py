"""SQLite backend: one aiosqlite connection in WAL mode, writes serialised by a lock.

Transactions start with `BEGIN IMMEDIATE`, so several processes sharing one file
take turns as the single writer (with a busy timeout) instead of failing mid-way.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from receiver.db.database import Executor, Row
from receiver.errors import DuplicateKey, StoreError

BUSY_TIMEOUT_MS = 10_000


class _Conn:
    """Runs statements on the shared connection; used inside and outside transactions."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        try:
            async with self._conn.execute(sql, args) as cursor:
                rows = await cursor.fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite error: {exc}") from exc
        return [dict(row) for row in rows]

    async def execute(self, sql: str, *args: Any) -> int:
        try:
            async with self._conn.execute(sql, args) as cursor:
                return cursor.rowcount
        except sqlite3.IntegrityError as exc:
            raise DuplicateKey(f"SQLite constraint: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite error: {exc}") from exc

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise DuplicateKey(f"SQLite constraint: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite error: {exc}") from exc


class SqliteDatabase:
    """A SQLite file behind the `Database` interface."""

    dialect = "sqlite"
    skip_locked = ""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self._exec = _Conn(conn)
        self._lock = asyncio.Lock()
        self._closed = False
        self.path = path

    @classmethod
    async def connect(cls, path: str) -> SqliteDatabase:
        """Open (creating if needed) the database file at `path`."""
        _check_parent(path)
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA synchronous=FULL")
            await conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {path}: {exc}") from exc
        return cls(conn, path)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the database is closed")

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        self._check_open()
        async with self._lock:
            return await self._exec.fetchone(sql, *args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        self._check_open()
        async with self._lock:
            return await self._exec.fetchall(sql, *args)

    async def execute(self, sql: str, *args: Any) -> int:
        self._check_open()
        async with self._lock:
            return await self._exec.execute(sql, *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._check_open()
        async with self._lock:
            await self._exec.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back if the block raises."""
        self._check_open()
        async with self._lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot start a transaction: {exc}") from exc
            try:
                yield self._exec
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            try:
                await self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._conn.execute("ROLLBACK")
                raise StoreError(f"commit failed: {exc}") from exc

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self._conn.close()


def _check_parent(path: str) -> None:
    if path == ":memory:":
        return
    parent = Path(path).expanduser().resolve().parent
    if not parent.is_dir():
        raise StoreError(f"database folder {parent} does not exist: create it or choose --db")
