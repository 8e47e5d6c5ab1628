"""`taskhook providers`: each provider, its base URL, whether a key is set, its credits.

Credits appear where the provider reports them (kie's Common API); a provider that could
not be asked shows why. Exit 0 (a failed credit look-up is shown, not fatal).
"""

from __future__ import annotations

import argparse
from typing import Any

import httpx

from dispatcher.cli.common import add_json_arg, print_json, print_table, settings_from
from dispatcher.providers.credits import accounts

CLIENT_TIMEOUT_S = 15.0


def register(sub: Any) -> None:
    """Add the `providers` command."""
    parser = sub.add_parser("providers", help="list providers, their keys and credits")
    add_json_arg(parser)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    """Print one row per provider."""
    settings = settings_from(args)
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT_S, follow_redirects=False) as client:
        rows = [found.to_json() for found in await accounts(client, settings)]
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        row["key_set"] = "yes" if row["key_set"] else "no"
        row["credits"] = _credits_cell(row)
    print_table(rows, ["provider", "base_url", "key_set", "credits"])
    return 0


def _credits_cell(row: dict[str, Any]) -> str:
    if row["credits"] is not None:
        return f"{row['credits']:g}"
    if row["credits_error"]:
        return f"unavailable ({row['credits_error']})"
    return "-"
