"""A broken environment ends `serve` at once with one clear line and a non-zero exit."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from receiver.app import create_app
from receiver.db import open_database
from receiver.settings import Settings
from tests.cli_support import Ran, taskhook
from tests.support import ADMIN_TOKEN, SECRET_KEY, app_client, free_port

GOOD_ENV = {"TASKHOOK_ADMIN_TOKEN": ADMIN_TOKEN, "TASKHOOK_SECRET_KEY": SECRET_KEY}


def _serve(tmp_path: Path, db: Path, env: dict[str, str] | None = None) -> Ran:
    port = str(free_port())
    return taskhook("serve", "--db", str(db), "--port", port, cwd=tmp_path,
                    env={**GOOD_ENV, **(env or {})})  # fmt: skip


def test_serve_exits_at_once_on_a_corrupt_database(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(os.urandom(8192))
    out = _serve(tmp_path, corrupt)  # before: printed the error, then hung forever
    assert out.returncode == 1 and "file is not a database" in out.stderr
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1


def test_serve_exits_at_once_when_the_database_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.db"
    folder.mkdir()
    out = _serve(tmp_path, folder)
    assert out.returncode == 1 and "cannot open SQLite database" in out.stderr
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1


def test_serve_refuses_a_short_admin_token(tmp_path: Path) -> None:
    out = _serve(tmp_path, tmp_path / "t.db", {"TASKHOOK_ADMIN_TOKEN": "a"})
    assert out.returncode == 2 and "TASKHOOK_ADMIN_TOKEN is 1 characters" in out.stderr
    assert out.stderr.count("\n") == 1 and not (tmp_path / "t.db").exists()


async def test_a_new_database_and_its_wal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    db = await open_database(str(path))
    try:
        await db.execute("CREATE TABLE t (x INTEGER)")
        await db.execute("INSERT INTO t VALUES (1)")
        for name in ("fresh.db", "fresh.db-wal", "fresh.db-shm"):
            mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
            assert mode == 0o600, (name, oct(mode))
    finally:
        await db.close()


async def test_readyz_is_503_while_the_database_cannot_be_written(tmp_path: Path) -> None:
    settings = Settings(db=str(tmp_path / "r.db"), admin_token=ADMIN_TOKEN, secret_key=SECRET_KEY)
    app = create_app(settings)
    async with app_client(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        db = app.state.runtime.db
        await db.execute("PRAGMA query_only = 1")  # the writer connection now refuses writes
        answer = await client.get("/readyz")
        assert answer.status_code == 503, answer.text
        assert "cannot be written" in answer.json()["reason"]
        await db.execute("PRAGMA query_only = 0")
        assert (await client.get("/readyz")).status_code == 200
