"""`taskhook media TASK_ID`: a task's archived files with fresh links."""

from __future__ import annotations

import argparse
from typing import Any

from dispatcher.cli.common import (
    CliError,
    add_db_arg,
    add_json_arg,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from receiver.media.archive import Archive, build_store
from receiver.settings import ensure_local_secrets

COLUMNS = ("name", "status", "bytes", "sha256", "url")


def register(sub: Any) -> None:
    """Add the `media` command."""
    parser = sub.add_parser("media", help="print a task's archived files with fresh links")
    parser.add_argument("task_id", help="the task whose files to list")
    add_db_arg(parser)
    add_json_arg(parser)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    """List the files from the store, signing new links (TASKHOOK_MEDIA_URL_TTL_S)."""
    settings = settings_from(args)
    if not settings.is_postgres:  # the secret key may live in a file beside the database
        settings, _notes = ensure_local_secrets(settings)
    store = build_store(settings)
    if store is None:
        raise CliError("the media archive is off (TASKHOOK_MEDIA=off)")
    async with open_store(settings) as db:
        items = await Archive(store, settings).media_of(db, args.task_id)
    if args.json:
        print_json(items)
    else:
        print_table([{**item, "sha256": (item["sha256"] or "")[:16]} for item in items], COLUMNS)
    return 0
