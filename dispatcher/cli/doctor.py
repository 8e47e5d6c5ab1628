"""`taskhook doctor`: one line per check, what to do about each failure; exit 1 if any fails."""

from __future__ import annotations

import argparse
from typing import Any

from dispatcher.cli.common import add_db_arg, settings_from
from dispatcher.doctor import run_checks


def register(sub: Any) -> None:
    """Add the `doctor` command."""
    parser = sub.add_parser(
        "doctor", help="check the database, secret key, providers, public URL and subscribers"
    )
    add_db_arg(parser)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    """Run every check and print them."""
    checks = await run_checks(settings_from(args))
    for check in checks:
        print(check.line())
    failed = [c for c in checks if c.ok is False]
    print(f"{len(failed)} of {len(checks)} checks failed" if failed else "all checks passed")
    return 1 if failed else 0
