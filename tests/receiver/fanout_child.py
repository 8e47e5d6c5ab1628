"""A delivery process for the crash test: `python -m tests.receiver.fanout_child DB_URL`.

Runs the app's lifespan (fan-out part + worker runner) until killed.
"""

from __future__ import annotations

import asyncio
import sys

from receiver.app import create_app
from receiver.fanout.fanout_part import FanoutPart
from receiver.settings import Settings
from tests.support import SECRET_KEY


async def main(db_url: str) -> None:
    settings = Settings(
        db=db_url,
        secret_key=SECRET_KEY,
        allow_http_subscribers=True,
        allow_private_subscribers=True,
        delivery_lease_s=1.0,
        delivery_retry_schedule_s=(0.0, 0.05, 0.1, 0.2, 0.5, 1.0),
    )
    app = create_app(settings, [FanoutPart()])
    async with app.router.lifespan_context(app):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
