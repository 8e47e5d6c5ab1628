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
from receiver.fanout.custom_headers import parse_header_args
from receiver.fanout.fanout import delivery_client, guard_from
from receiver.fanout.probe import send_test_event
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
    add.add_argument(
        "--header", action="append", default=[], metavar="'NAME: VALUE'",
        help="a custom header sent with every webhook (at most 10; stored encrypted)",
    )  # fmt: skip
    actions.add_parser("list", help="list subscribers (never their secrets)")
    for name, text in (
        ("remove", "delete a subscriber"),
        ("pause", "hold deliveries (they wait, nothing is lost)"),
        ("resume", "deliver again (also re-enables a disabled subscriber)"),
        ("rotate-secret", "new signing secret; the old one signs too for 24 h"),
        ("test", "send a signed taskhook.test event now and show the answer (exit 1 if refused)"),
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
    if args.action == "test" and not result["delivered"]:
        print(f"taskhook: the subscriber did not accept it: {result['error']}", file=sys.stderr)
        return 1
    return 0


async def _run(subs: Subscriptions, args: argparse.Namespace) -> Any:
    action = args.action
    if action == "add":
        headers = parse_header_args(args.header)
        return await subs.create(args.url, args.kind, parse_filter_args(args.filter), headers)
    if action == "list":
        page = await list_subscribers(subs.db, {}, limit=500, cursor=None)
        return [subscriber_to_api(row) for row in page.rows]
    if action == "remove":
        await subs.remove(args.id)
        print(f"removed {args.id}", file=sys.stderr)
        return None
    if action == "rotate-secret":
        return await subs.rotate_secret(args.id)
    if action == "test":
        return await _test(subs, args)
    patch = {"paused": True} if action == "pause" else {"paused": False}
    if action == "resume" and not (await subs.get(args.id))["enabled"]:
        patch["enabled"] = True
    return await subs.update(args.id, patch)


async def _test(subs: Subscriptions, args: argparse.Namespace) -> dict[str, Any]:
    """One test event through the same guarded client `serve` delivers with."""
    row = await subs.get(args.id)
    timeout_s = settings_from(args).delivery_timeout_s
    async with delivery_client(subs.guard, timeout_s) as client:
        result = await send_test_event(row, subs.box, subs.guard, client, timeout_s)
    return result.to_api()
