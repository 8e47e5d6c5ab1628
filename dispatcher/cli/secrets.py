"""`taskhook secrets task-webhook [--rotate]`: the install-wide secret signing task webhooks."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dispatcher.cli.common import add_db_arg, open_store, settings_from
from receiver.fanout.task_webhooks import current_secrets, rotate
from receiver.secretbox import SecretBox
from receiver.settings import ensure_local_secrets


def register(sub: Any) -> None:
    """Add the `secrets` command."""
    parser = sub.add_parser("secrets", help="print (or rotate) install-wide signing secrets")
    parser.add_argument("name", choices=["task-webhook"], help="which secret")
    parser.add_argument(
        "--rotate", action="store_true",
        help="make a new one; the old one keeps signing for the grace period (24 h)",
    )  # fmt: skip
    add_db_arg(parser)
    parser.set_defaults(handler=handle)


async def handle(args: argparse.Namespace) -> int:
    """Print the secret (`whsec_...`), after rotating it when asked."""
    settings, notes = settings_from(args), list[str]()
    if not settings.is_postgres:  # the secret key may live in a file beside the database
        settings, notes = ensure_local_secrets(settings)
    for note in notes:
        print(f"taskhook: {note}", file=sys.stderr)
    box = SecretBox(settings.secret_key)
    async with open_store(settings) as db:
        if args.rotate:
            secret = await rotate(db, box, settings.secret_rotation_grace_s)
            print("taskhook: rotated; the previous secret signs too for 24 h", file=sys.stderr)
        else:
            async with db.transaction() as tx:
                secret, _old, _until = await current_secrets(tx, box)
    print(secret)
    return 0
