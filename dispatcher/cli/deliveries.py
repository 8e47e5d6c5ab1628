"""`taskhook deliveries`: deliveries with their attempts, newest first (`--dead` for dead ones)."""

from __future__ import annotations

import argparse
from typing import Any

from dispatcher.cli.common import (
    add_db_arg,
    add_json_arg,
    open_store,
    print_items,
    settings_from,
)
from receiver.statuses import DELIVERY_STATES
from receiver.store.deliveries import attempts_of, delivery_to_api, list_deliveries
from receiver.store.pagination import parse_limit

COLUMNS = ("id", "event_id", "subscriber_id", "generation", "state", "attempt_count",
           "last_status", "last_error")  # fmt: skip


def register(sub: Any) -> None:
    """Add the `deliveries` command."""
    parser = sub.add_parser("deliveries", help="list deliveries and their attempts")
    parser.add_argument("--dead", action="store_true", help="only dead-lettered deliveries")
    parser.add_argument("--state", choices=DELIVERY_STATES, help="filter")
    parser.add_argument("--subscriber", dest="subscriber_id", help="filter by subscriber id")
    parser.add_argument("--event", dest="event_id", help="filter by event id")
    parser.add_argument("--limit", default="50", help="how many (1-500, default 50)")
    add_db_arg(parser)
    add_json_arg(parser)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    """List deliveries straight from the store."""
    wanted = {
        "state": "dead" if args.dead else args.state,
        "subscriber_id": args.subscriber_id,
        "event_id": args.event_id,
    }
    async with open_store(settings_from(args)) as db:
        page = await list_deliveries(
            db, {k: v for k, v in wanted.items() if v}, limit=parse_limit(args.limit), cursor=None
        )
        attempts = await attempts_of(db, [row["id"] for row in page.rows])
    items = [delivery_to_api(row, attempts[row["id"]]) for row in page.rows]
    print_items(items, COLUMNS, as_json=args.json)
    return 0
