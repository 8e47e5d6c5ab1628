"""`taskhook events`: list events, or show one."""

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
from receiver.store.events import event_to_api, get_event, list_events
from receiver.store.pagination import parse_limit


def register(sub: Any) -> None:
    """Add the `events` command."""
    parser = sub.add_parser("events", help="list events (newest first) or show one")
    parser.add_argument("id", nargs="?", help="show this event in full")
    parser.add_argument("--task", dest="task_id", help="filter by task id")
    parser.add_argument("--type", help="filter: task.succeeded, task.failed, ...")
    parser.add_argument("--limit", default="50", help="how many (1-500, default 50)")
    add_db_arg(parser)
    add_json_arg(parser)
    parser.set_defaults(handler=handle)


def _flat(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data") or {}
    return {
        "id": event["id"],
        "type": event["type"],
        "task_id": data.get("task_id"),
        "provider": data.get("provider"),
        "status": data.get("status"),
        "source": data.get("source"),
        "created_at": event["created_at"],
    }


async def handle(args: argparse.Namespace) -> int:
    """List or show events straight from the store."""
    settings = settings_from(args)
    async with open_store(settings) as db:
        if args.id:
            row = await get_event(db, args.id)
            if row is None:
                raise NotFound(f"no event {args.id!r}")
            print_json(event_to_api(row))
            return 0
        filters = {k: v for k, v in {"task_id": args.task_id, "type": args.type}.items() if v}
        page = await list_events(db, filters, limit=parse_limit(args.limit), cursor=None)
    items = [event_to_api(row) for row in page.rows]
    if args.json:
        print_json(items)
    else:
        print_table([_flat(e) for e in items], list(_flat(items[0]).keys()) if items else ["id"])
    return 0
