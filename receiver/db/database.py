"""The interface every backend implements.

SQL is written once, with `?` placeholders and portable types (TEXT, BIGINT, INTEGER);
the PostgreSQL backend rewrites placeholders to `$n`. Times are epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

Row = dict[str, Any]
Statement = tuple[str, Sequence[Any]]
T = TypeVar("T")


class Executor(Protocol):
    """Something that runs SQL: the database itself (autocommit) or an open transaction."""

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        """Run a query and return its first row, or None."""

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        """Run a query and return every row."""

    async def execute(self, sql: str, *args: Any) -> int:
        """Run a statement and return the number of rows it changed."""

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row (one round trip where the driver can)."""


class Database(Executor, Protocol):
    """A connection pool with transactions."""

    dialect: str
    skip_locked: str

    def transaction(self) -> AbstractAsyncContextManager[Executor]:
        """A write transaction: committed on normal exit, rolled back on error."""

    async def write_batch(self, statements: Sequence[Statement]) -> list[int]:
        """Run write statements in order in one transaction, as few round trips as can be.

        Returns how many rows each statement changed (an `ON CONFLICT DO NOTHING` insert
        that met its conflict counts 0).
        """

    async def run_transaction(self, work: Callable[[Executor], Awaitable[T]]) -> T:
        """`work(tx)` in one write transaction: committed if it returns, rolled back if not.

        On SQLite the whole transaction runs in one trip to the writer's thread, so
        `work` must await nothing but the executor it is given.
        """

    async def close(self) -> None:
        """Close every connection; the database refuses use afterwards."""
