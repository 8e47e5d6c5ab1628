"""`taskhook callbacks`: the callback audit log (every inbound request and its verdict)."""

from __future__ import annotations

import argparse
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
from receiver.store.callback_audit import VERDICTS, callback_to_api, get_callback, list_callbacks
from receiver.store.pagination import parse_limit

COLUMNS = ("id", "provider", "verdict", "status_code", "reason", "provider_task_id", "received_at")


def register(sub: Any) -> None:
    """Add the `callbacks` command."""
    parser = sub.add_parser("callbacks", help="list inbound callbacks (newest first) or show one")
    parser.add_argument("id", nargs="?", help="show this callback in full (headers, body)")
    parser.add_argument("--provider", help="filter: kie, foxapi, or a Standard Webhooks source")
    parser.add_argument("--verdict", help=f"filter: {', '.join(VERDICTS)}")
    parser.add_argument("--task", dest="task_id", help="filter by our task id")
    parser.add_argument("--limit", default="50", help="how many (1-500, default 50)")
    add_db_arg(parser)
    add_json_arg(parser)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    """List or show audit rows straight from the store."""
    if args.verdict and args.verdict not in VERDICTS:
        raise CliError(f"--verdict must be one of {', '.join(VERDICTS)}", exit_code=2)
    settings = settings_from(args)
    async with open_store(settings) as db:
        if args.id:
            row = await get_callback(db, args.id)
            if row is None:
                raise CliError(f"no callback {args.id!r} (see `taskhook callbacks`)")
            print_json(callback_to_api(row))
            return 0
        filters = chosen(args, ("provider", "verdict", "task_id"))
        page = await list_callbacks(db, filters, limit=parse_limit(args.limit), cursor=None)
    items = [callback_to_api(row) for row in page.rows]
    print_items(items, COLUMNS, as_json=args.json)
    return 0
