"""Fixtures: a store on each backend (SQLite file; PostgreSQL schema when reachable)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

from receiver.db import Database, migrate, open_database
from receiver.settings import Settings
from tests.support import ADMIN_TOKEN, SECRET_KEY

PG_URL = os.environ.get("TASKHOOK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, str | None] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--all",
        action="store_true",
        help="run every test, @pytest.mark.slow included (CI and the README's command do)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Plain `pytest` leaves slow tests out locally; `--all` or any `-m` expression decides."""
    if config.getoption("--all") or config.option.markexpr:
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


async def _pg_unavailable() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    if "reason" not in _pg_state:
        try:
            import asyncpg

            conn = await asyncpg.connect(PG_URL, timeout=3)
            await conn.close()
            _pg_state["reason"] = None
        except Exception as exc:  # any failure means: skip, and say why
            _pg_state["reason"] = f"PostgreSQL not reachable at {PG_URL}: {exc!r}"
    return _pg_state["reason"]


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "taskhook.db")  # type: ignore[operator]
        return
    reason = await _pg_unavailable()
    if reason:
        pytest.skip(reason)
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_URL)
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in PG_URL else "?"
        yield f"{PG_URL}{sep}search_path={schema}"
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """An open, migrated database on each backend."""
    database = await open_database(db_url)
    await migrate(database)
    yield database
    await database.close()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings for tests: no environment read, fixed tokens, no real providers."""
    return Settings(
        db=db_url,
        admin_token=ADMIN_TOKEN,
        secret_key=SECRET_KEY,
        allow_http_subscribers=True,
        allow_private_subscribers=True,
    )
