"""`taskhook tick`: one bounded pass of background work, then exit (cron, schedulers).

For deployments that run `taskhook serve --no-workers` (or `TASKHOOK_WORKERS=0`), or no
server at all: inbox processing, due polls, submissions and due deliveries, each a
bounded batch; another pass follows while the last one found work (see receiver.tick).
Exit 0 when every worker ran, 1 when one failed (the log says why).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from dispatcher.cli import logs
from dispatcher.cli.common import (
    CliError,
    add_db_arg,
    add_json_arg,
    print_json,
    print_table,
    settings_from,
)
from dispatcher.compose import build_app
from receiver.runtime import Runtime
from receiver.settings import ensure_local_secrets
from receiver.tick import DEFAULT_MAX_ROUNDS, MAX_ROUNDS_LIMIT, TickResult, run_tick

log = logging.getLogger("taskhook.tick")


def register(sub: Any) -> None:
    """Add the `tick` command."""
    parser = sub.add_parser(
        "tick", help="run one bounded pass of polls, inbox and deliveries, then exit"
    )
    add_db_arg(parser)
    parser.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_MAX_ROUNDS,
        help=f"at most this many passes while work is found (1-{MAX_ROUNDS_LIMIT}, "
        f"default {DEFAULT_MAX_ROUNDS})",
    )
    add_json_arg(parser)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    """Start the full app with workers off, tick once, print the counts."""
    if not 1 <= args.rounds <= MAX_ROUNDS_LIMIT:
        raise CliError(f"--rounds {args.rounds}: use 1-{MAX_ROUNDS_LIMIT}", exit_code=2)
    settings = settings_from(args, workers=False)
    logs.configure(settings.log_format, level=logging.WARNING)
    settings, notes = ensure_local_secrets(settings)
    for note in notes:
        log.warning("%s", note)
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        result = await run_tick(runtime.runner, max_rounds=args.rounds)
    _print(result, as_json=args.json)
    if result.failed:
        print(
            f"taskhook: error: worker(s) failed: {', '.join(result.failed)} (see the log above)",
            file=sys.stderr,
        )
        return 1
    return 0


def _print(result: TickResult, *, as_json: bool) -> None:
    if as_json:
        print_json(result.to_api())
        return
    rows = [
        {"worker": name, "handled": count, "failed": "yes" if name in result.failed else ""}
        for name, count in result.handled.items()
    ]
    print_table(rows, ["worker", "handled", "failed"])
    print(f"{result.total} item(s) handled in {result.rounds} pass(es)")
