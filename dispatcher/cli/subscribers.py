"""`taskhook subscribers`: add, list, remove, pause, resume, rotate-secret (on the store)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dispatcher.cli.common import (
    add_db_arg,
    add_json_arg,
    open_store,
    print_json,
    print_table,
    settings_from,
)
from receiver.fanout.plugin import guard_from
from receiver.fanout.sinks import SINKS
from receiver.fanout.subscriptions import Subscriptions, parse_filter_args
from receiver.settings import ensure_local_secrets
from receiver.store.subscribers import list_subscribers, subscriber_to_api

COLUMNS = ("id", "kind", "url", "enabled", "paused", "filter", "disabled_reason")


def register(sub: Any) -> None:
    """Add the `subscribers` command and its actions."""
    parser = sub.add_parser("subscribers", help="manage who receives events")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    add = actions.add_parser("add", help="add a subscriber (prints its secret once)")
    add.add_argument(
        "url", help="https:// URL receiving the events (redis://, nats://, amqp:// for queues)"
    )
    add.add_argument("--kind", default="webhook", choices=list(SINKS), help="default webhook")
    add.add_argument(
        "--filter", action="append", default=[], metavar="KEY=GLOB",
        help="only matching events: provider=kie, type=task.failed, model=sora-2* (repeatable)",
    )  # fmt: skip
    actions.add_parser("list", help="list subscribers (never their secrets)")
    for name, text in (
        ("remove", "delete a subscriber"),
        ("pause", "hold deliveries (they wait, nothing is lost)"),
        ("resume", "deliver again (also re-enables a disabled subscriber)"),
        ("rotate-secret", "new signing secret; the old one signs too for 24 h"),
    ):
        actions.add_parser(name, help=text).add_argument("id", help="subscriber id")
    for action in actions.choices.values():
        add_db_arg(action)
        add_json_arg(action)
    parser.set_defaults(handler=handle)


@asynccontextmanager
async def subscriptions(args: argparse.Namespace) -> AsyncIterator[Subscriptions]:
    """The subscriber service over the store named by env/flags (secrets key as serve has it)."""
    settings, notes = ensure_local_secrets(settings_from(args))
    for note in notes:
        print(f"taskhook: {note}", file=sys.stderr)
    async with open_store(settings) as db:
        yield Subscriptions.from_settings(db, settings, guard_from(settings))


async def handle(args: argparse.Namespace) -> int:
    """Run one action."""
    async with subscriptions(args) as subs:
        result = await _run(subs, args)
    if result is None:
        return 0
    if args.action == "list" and not args.json:
        print_table(result, COLUMNS)
    else:
        print_json(result)
    if isinstance(result, dict) and result.get("secret"):
        print("taskhook: store this secret now; it is not shown again", file=sys.stderr)
    return 0


async def _run(subs: Subscriptions, args: argparse.Namespace) -> Any:
    action = args.action
    if action == "add":
        return await subs.create(args.url, args.kind, parse_filter_args(args.filter))
    if action == "list":
        page = await list_subscribers(subs.db, {}, limit=500, cursor=None)
        return [subscriber_to_api(row) for row in page.rows]
    if action == "remove":
        await subs.remove(args.id)
        print(f"removed {args.id}", file=sys.stderr)
        return None
    if action == "rotate-secret":
        return await subs.rotate_secret(args.id)
    patch = {"paused": True} if action == "pause" else {"paused": False}
    if action == "resume" and not (await subs.get(args.id))["enabled"]:
        patch["enabled"] = True
    return await subs.update(args.id, patch)
