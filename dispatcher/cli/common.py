"""What every command shares: settings from env + flags, the store, output helpers."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from receiver.db import Database, migrate, open_database
from receiver.settings import Settings


class CliError(Exception):
    """A failure reported as one line; `exit_code` 1 (operation failed) or 2 (usage)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_db_arg(parser: argparse.ArgumentParser) -> None:
    """`--db` (overrides TASKHOOK_DB)."""
    parser.add_argument("--db", help="SQLite path or postgresql:// URL (env TASKHOOK_DB)")


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    """`--json` for machine-readable output."""
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def settings_from(args: argparse.Namespace, **extra: Any) -> Settings:
    """Settings from the environment, with the flags that were given winning."""
    flags = {key: getattr(args, key, None) for key in ("db", "host", "port")}
    return Settings.from_env(**flags, **extra)


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Database]:
    """Open and migrate the database for a one-shot command."""
    db = await open_database(settings.db, pool_size=2)
    try:
        await migrate(db)
        yield db
    finally:
        await db.close()


def print_json(value: Any) -> None:
    """Pretty JSON on stdout."""
    print(json.dumps(value, indent=2, ensure_ascii=False))


def print_items(items: Sequence[dict[str, Any]], columns: Sequence[str], *, as_json: bool) -> None:
    """A listing: JSON with `--json`, else an aligned table of `columns`."""
    if as_json:
        print_json(list(items))
    else:
        print_table(items, columns)


def chosen(args: argparse.Namespace, names: Sequence[str]) -> dict[str, str]:
    """The filter options among `names` that were given (`--status running` -> status)."""
    return {name: value for name in names if (value := getattr(args, name, None))}


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """A plain aligned table on stdout."""
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]
    print("  ".join(col.upper().ljust(w) for col, w in zip(columns, widths, strict=True)))
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    if not rows:
        print("(none)", file=sys.stderr)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)[:60]
    return str(value)
