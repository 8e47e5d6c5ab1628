"""Versioned migrations: `migrations/NNNN_name.sql`, applied in order at start-up."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from receiver.clock import now_ms
from receiver.db.database import Database, Executor
from receiver.errors import SchemaTooNew, StoreError

_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")
_CREATE_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
)


@dataclass(frozen=True)
class Migration:
    """One schema step."""

    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """The SQL split into statements (`;` at the end of a line ends one)."""
        lines = [ln for ln in self.sql.splitlines() if not ln.strip().startswith("--")]
        return [s.strip() for s in "\n".join(lines).split(";\n") if s.strip().strip(";")]


@lru_cache(maxsize=1)
def packaged_migrations() -> list[Migration]:
    """Every migration shipped in the package, in order."""
    folder = resources.files("receiver.db") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


def latest_version() -> int:
    """The newest schema version this code knows."""
    steps = packaged_migrations()
    return steps[-1].version if steps else 0


async def schema_version(db: Executor) -> int:
    """The version the database is at (0 when empty)."""
    await db.execute(_CREATE_VERSION_TABLE)
    row = await db.fetchone("SELECT MAX(version) AS v FROM schema_migrations")
    return int(row["v"]) if row and row["v"] is not None else 0


async def migrate(db: Database, migrations: list[Migration] | None = None) -> list[int]:
    """Bring the schema up to date; return the versions applied.

    Refuses (SchemaTooNew) when the database was migrated by a newer taskhook.
    """
    if migrations is None:
        migrations = await asyncio.to_thread(packaged_migrations)
    steps = migrations
    latest = steps[-1].version if steps else 0
    applied: list[int] = []
    async with db.transaction() as tx:
        if db.dialect == "postgres":
            await tx.execute("SELECT pg_advisory_xact_lock(727274)")
        current = await schema_version(tx)
        if current > latest:
            raise SchemaTooNew(
                f"the database is at schema version {current} but this taskhook knows "
                f"only up to {latest}: upgrade taskhook (or point --db at another database)"
            )
        for step in steps:
            if step.version > current:
                await _apply(tx, step)
                applied.append(step.version)
    return applied


async def _apply(tx: Executor, step: Migration) -> None:
    for statement in step.statements():
        try:
            await tx.execute(statement)
        except StoreError as exc:
            raise StoreError(f"migration {step.version:04d}_{step.name} failed: {exc}") from exc
    await tx.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        step.version,
        step.name,
        now_ms(),
    )
