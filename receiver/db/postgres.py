"""PostgreSQL backend over an asyncpg pool (the `postgres` extra)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from receiver.db.database import Executor, Row, Statement, T
from receiver.errors import DuplicateKey, StoreError

_PLACEHOLDER = re.compile(r"\?")


@lru_cache(maxsize=1024)
def to_postgres(sql: str) -> str:
    """Rewrite `?` placeholders as `$1, $2, ...` (our SQL never has `?` in literals)."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", sql)


class _PgConn:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        row = await _guard(self._conn.fetchrow(to_postgres(sql), *args))
        return dict(row) if row is not None else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        rows = await _guard(self._conn.fetch(to_postgres(sql), *args))
        return [dict(r) for r in rows]

    async def execute(self, sql: str, *args: Any) -> int:
        status = await _guard(self._conn.execute(to_postgres(sql), *args))
        tail = str(status).rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await _guard(self._conn.executemany(to_postgres(sql), rows))


async def _guard(awaitable: Any) -> Any:
    import asyncpg

    try:
        return await awaitable
    except asyncpg.UniqueViolationError as exc:
        raise DuplicateKey(f"PostgreSQL constraint: {exc}") from exc
    except (asyncpg.PostgresError, OSError) as exc:
        raise StoreError(f"PostgreSQL error: {exc}") from exc


class PostgresDatabase:
    """A PostgreSQL database behind the `Database` interface."""

    dialect = "postgres"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._closed = False

    @classmethod
    async def connect(cls, url: str, *, pool_size: int = 10) -> PostgresDatabase:
        """Open a pool to `url`."""
        try:
            import asyncpg
        except ImportError as exc:
            raise StoreError("PostgreSQL needs asyncpg: pip install 'taskhook[postgres]'") from exc
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size)
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {exc}") from exc
        return cls(pool)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the database is closed")

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        self._check_open()
        async with self._pool.acquire() as conn:
            return await _PgConn(conn).fetchone(sql, *args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        self._check_open()
        async with self._pool.acquire() as conn:
            return await _PgConn(conn).fetchall(sql, *args)

    async def execute(self, sql: str, *args: Any) -> int:
        self._check_open()
        async with self._pool.acquire() as conn:
            return await _PgConn(conn).execute(sql, *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._check_open()
        async with self._pool.acquire() as conn:
            await _PgConn(conn).executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        """A READ COMMITTED transaction on one pooled connection."""
        self._check_open()
        async with self._pool.acquire() as conn, conn.transaction():
            yield _PgConn(conn)

    async def run_transaction(self, work: Callable[[Executor], Awaitable[T]]) -> T:
        """`work(tx)` in one transaction."""
        async with self.transaction() as tx:
            return await work(tx)

    async def write_batch(self, statements: Sequence[Statement]) -> list[int]:
        """One transaction; the rows each statement changed."""
        async with self.transaction() as tx:
            return [await tx.execute(sql, *args) for sql, args in statements]

    async def close(self) -> None:
        """Close the pool (idempotent)."""
        if not self._closed:
            self._closed = True
            await self._pool.close()
