"""`taskhook replay EVENT_ID [--subscriber ID]` / `taskhook replay --dead [--since TIME]`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dispatcher.cli.common import (
    CliError,
    add_db_arg,
    add_json_arg,
    open_store,
    print_json,
    settings_from,
)
from receiver.clock import parse_time
from receiver.store.deliveries import replay_dead, replay_event


def register(sub: Any) -> None:
    """Add the `replay` command."""
    parser = sub.add_parser("replay", help="queue events for delivery again (same webhook-id)")
    parser.add_argument("event_id", nargs="?", help="the event to deliver again")
    parser.add_argument("--subscriber", help="only to this subscriber (default: all matching)")
    parser.add_argument("--dead", action="store_true", help="replay every dead delivery")
    parser.add_argument("--since", help="with --dead: only those dead since TIME (RFC 3339)")
    add_db_arg(parser)
    add_json_arg(parser)
    parser.set_defaults(handler=handle)


def _since_ms(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise CliError(f"--since {text!r}: use a time like 2026-11-23T18:00:00Z", 2) from None


async def handle(args: argparse.Namespace) -> int:
    """Queue new deliveries (a new generation; the worker of `serve` sends them)."""
    if bool(args.event_id) == bool(args.dead):
        raise CliError("give either EVENT_ID or --dead", 2)
    if args.since and not args.dead:
        raise CliError("--since goes with --dead", 2)
    since = _since_ms(args.since)
    async with open_store(settings_from(args)) as db:
        if args.dead:
            queued = await replay_dead(db, since)
        else:
            queued = await replay_event(db, args.event_id, args.subscriber)
    if args.json:
        print_json(queued)
    else:
        for row in queued:
            print(f"{row['id']}  event {row['event_id']} -> {row['subscriber_id']} "
                  f"(generation {row['generation']})")  # fmt: skip
        print(f"queued {len(queued)} deliveries", file=sys.stderr)
    return 0
