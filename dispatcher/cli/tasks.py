"""`taskhook tasks`: list tasks, or show one."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dispatcher.cli.common import (
    CliError,
    add_db_arg,
    add_json_arg,
    chosen,
    open_store,
    print_items,
    print_json,
    settings_from,
)
from receiver.errors import NotFound
from receiver.settings import Settings
from receiver.store.erasure import erase_task
from receiver.store.pagination import parse_limit
from receiver.store.tasks import get_task, list_tasks, task_to_api

COLUMNS = ("id", "provider", "model", "status", "progress", "provider_task_id", "created_at")


def register(sub: Any) -> None:
    """Add the `tasks` command."""
    parser = sub.add_parser(
        "tasks", help="list tasks (newest first), show one, or `tasks erase ID` (tombstone)"
    )
    parser.add_argument("id", nargs="?", help="show this task in full (or: erase)")
    parser.add_argument("erase_id", nargs="?", metavar="ID", help="with erase: the task to erase")
    parser.add_argument("--status", help="filter: submitted, running, succeeded, failed, ...")
    parser.add_argument("--provider", help="filter: kie, foxapi, toapis")
    parser.add_argument("--model", help="filter by model")
    parser.add_argument("--limit", default="50", help="how many (1-500, default 50)")
    add_db_arg(parser)
    add_json_arg(parser)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    """List or show tasks straight from the store."""
    settings = settings_from(args)
    if args.id == "erase" or args.erase_id:
        return await erase(args, settings)
    async with open_store(settings) as db:
        if args.id:
            row = await get_task(db, args.id)
            if row is None:
                raise NotFound(f"no task {args.id!r}")
            print_json(task_to_api(row))
            return 0
        filters = chosen(args, ("status", "provider", "model"))
        page = await list_tasks(db, filters, limit=parse_limit(args.limit), cursor=None)
    items = [task_to_api(row) for row in page.rows]
    print_items(items, COLUMNS, as_json=args.json)
    return 0


async def erase(args: argparse.Namespace, settings: Settings) -> int:
    """`taskhook tasks erase ID`: erase one finished task's content, keep a tombstone."""
    if args.id != "erase" or not args.erase_id:
        raise CliError("use `taskhook tasks erase ID` to erase a task", exit_code=2)
    async with open_store(settings) as db:
        row = await erase_task(db, args.erase_id)
    print_json(task_to_api(row))
    print(f"taskhook: erased task {row['id']} (a tombstone stays)", file=sys.stderr)
    return 0
