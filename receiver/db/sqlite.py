"""SQLite backend: a writer and a reader aiosqlite connection in WAL mode.

Writes (and reads inside transactions) go through the writer, serialised by a lock;
transactions start with `BEGIN IMMEDIATE`, so several processes sharing one file take
turns as the single writer (with a busy timeout) instead of failing mid-way. Plain
SELECTs outside a transaction go to the reader, which WAL lets run beside a writer, so
a request's read never queues behind another request's commit.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from receiver.db.database import Executor, Row, Statement
from receiver.errors import DuplicateKey, StoreError

BUSY_TIMEOUT_MS = 10_000
T = TypeVar("T")


class _Conn:
    """Runs statements on the shared connection; used inside and outside transactions."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        with _translated():  # one trip to the connection's thread: execute, fetch, done
            rows = await self._conn.execute_fetchall(sql, args)
        return [dict(row) for row in rows]

    async def execute(self, sql: str, *args: Any) -> int:
        with _translated():  # one trip: a finished write leaves nothing open, so no close trip
            cursor = await self._conn.execute(sql, args)
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with _translated():
            await self._conn.executemany(sql, rows)


class SqliteDatabase:
    """A SQLite file behind the `Database` interface."""

    dialect = "sqlite"
    skip_locked = ""

    def __init__(
        self, conn: aiosqlite.Connection, path: str, reader: aiosqlite.Connection | None = None
    ) -> None:
        self._conn = conn
        self._exec = _Conn(conn)
        self._reader = reader
        self._read = _Conn(reader) if reader is not None else None
        self._lock = asyncio.Lock()
        self._closed = False
        self._batch_conn: sqlite3.Connection | None = None
        self.path = path

    @classmethod
    async def connect(cls, path: str) -> SqliteDatabase:
        """Open (creating if needed) the database file at `path`."""
        _check_parent(path)
        create_private(path)
        await asyncio.to_thread(_probe, path)
        opened: list[aiosqlite.Connection] = []
        try:
            opened.append(await _open(path))
            await _pragma(opened[0], "journal_mode=WAL")
            if path != ":memory:":
                opened.append(await _open(path))
        except sqlite3.Error as exc:
            for conn in opened:  # a connection left open keeps its thread (and the process)
                await conn.close()
            raise StoreError(f"cannot open SQLite database {path}: {exc}") from exc
        return cls(opened[0], path, opened[1] if len(opened) > 1 else None)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the database is closed")

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        self._check_open()
        if self._read is not None and _is_plain_read(sql):
            return await self._read.fetchall(sql, *args)
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

    async def write_batch(self, statements: Sequence[Statement]) -> list[int]:
        """The whole transaction in one trip to a worker thread (not one per statement)."""

        async def write(tx: Executor) -> list[int]:
            return [await tx.execute(sql, *args) for sql, args in statements]

        return await self.run_transaction(write)

    async def run_transaction(self, work: Callable[[Executor], Awaitable[T]]) -> T:
        """`work(tx)` in one transaction, start to end in one trip to a worker thread.

        Statement by statement, each would cost a trip to aiosqlite's thread while the
        writer lock is held; here `work`'s coroutine is driven to its end inside the
        thread, on an executor whose methods never suspend. `work` must therefore await
        nothing but that executor (StoreError says so if it does).
        """
        self._check_open()
        async with self._lock:
            conn = await self._sync_conn()
            return await asyncio.to_thread(_run_sync, conn, work)

    async def _sync_conn(self) -> sqlite3.Connection:
        """The plain sqlite3 connection for one-trip transactions (under the lock)."""
        if self._batch_conn is None:
            self._batch_conn = await asyncio.to_thread(_open_sync, self.path)
        return self._batch_conn

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self._conn.close()
            if self._reader is not None:
                await self._reader.close()
            if self._batch_conn is not None:
                await asyncio.to_thread(self._batch_conn.close)


async def _open(path: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        for pragma in (f"busy_timeout={BUSY_TIMEOUT_MS}", "synchronous=FULL", "foreign_keys=ON"):
            await _pragma(conn, pragma)
    except BaseException:
        await conn.close()
        raise
    return conn


async def _pragma(conn: aiosqlite.Connection, pragma: str) -> None:
    """Run a PRAGMA and close its cursor (an open cursor would hold a lock)."""
    async with conn.execute(f"PRAGMA {pragma}"):
        pass


def _open_sync(path: str) -> sqlite3.Connection:
    """A plain sqlite3 connection for `write_batch`, used only under the writer lock."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    for pragma in (f"busy_timeout={BUSY_TIMEOUT_MS}", "synchronous=FULL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}").close()
    return conn


class _SyncConn:
    """The `Executor` of a one-trip transaction: coroutines that never suspend."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        with _translated():
            return [dict(row) for row in self._conn.execute(sql, args).fetchall()]

    async def execute(self, sql: str, *args: Any) -> int:
        with _translated():
            return self._conn.execute(sql, args).rowcount

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with _translated():
            self._conn.executemany(sql, rows)


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise DuplicateKey(f"SQLite constraint: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"SQLite error: {exc}") from exc


def _run_sync(conn: sqlite3.Connection, work: Callable[[Executor], Awaitable[T]]) -> T:
    """BEGIN IMMEDIATE, drive `work` to its end, COMMIT (runs in a worker thread)."""
    with _translated():
        conn.execute("BEGIN IMMEDIATE")
    try:
        result = _drive(work(_SyncConn(conn)))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    with _translated():
        try:
            conn.execute("COMMIT")
        except sqlite3.Error:
            conn.execute("ROLLBACK")
            raise
    return result


def _drive(step: Awaitable[T]) -> T:
    """Run a coroutine that never suspends to its end; StoreError if it tries to."""
    coro = step.__await__()
    try:
        coro.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coro.close()
    raise StoreError("a one-trip transaction awaited something other than the database")


def _is_plain_read(sql: str) -> bool:
    """A SELECT (or PRAGMA read) that changes nothing: safe on the reader connection."""
    head = sql.lstrip()[:6].upper()
    return head == "SELECT"


def _probe(path: str) -> None:
    """Fail fast (StoreError) on a file SQLite cannot open or read as a database."""
    try:
        conn = sqlite3.connect(path)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open SQLite database {path}: {exc}") from exc
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open SQLite database {path}: {exc}") from exc
    finally:
        conn.close()


def create_private(path: str) -> None:
    """Create a missing database file with mode 0600 (SQLite gives its WAL files the same)."""
    if path == ":memory:" or path.startswith("file:"):
        return
    try:
        fd = os.open(Path(path).expanduser(), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create SQLite database {path}: {exc.strerror}") from exc
    os.close(fd)


def _check_parent(path: str) -> None:
    if path == ":memory:":
        return
    parent = Path(path).expanduser().resolve().parent
    if not parent.is_dir():
        raise StoreError(f"database folder {parent} does not exist: create it or choose --db")
