"""`taskhook tasks`: list tasks, or show one."""

from __future__ import annotations

import argparse
from typing import Any

from dispatcher.cli.common import (
    add_db_arg,
    add_json_arg,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from receiver.errors import NotFound
from receiver.store.pagination import parse_limit
from receiver.store.tasks import get_task, list_tasks, task_to_api

COLUMNS = ("id", "provider", "model", "status", "progress", "provider_task_id", "created_at")


def register(sub: Any) -> None:
    """Add the `tasks` command."""
    parser = sub.add_parser("tasks", help="list tasks (newest first) or show one")
    parser.add_argument("id", nargs="?", help="show this task in full")
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
    async with open_store(settings) as db:
        if args.id:
            row = await get_task(db, args.id)
            if row is None:
                raise NotFound(f"no task {args.id!r}")
            print_json(task_to_api(row))
            return 0
        wanted = {"status": args.status, "provider": args.provider, "model": args.model}
        filters = {k: v for k, v in wanted.items() if v}
        page = await list_tasks(db, filters, limit=parse_limit(args.limit), cursor=None)
    items = [task_to_api(row) for row in page.rows]
    if args.json:
        print_json(items)
    else:
        print_table(items, COLUMNS)
    return 0
