"""Child process for the shared-window test: take N create grants, print when each came."""

from __future__ import annotations

import asyncio
import sys
import time

from dispatcher.ratelimit import Limiters
from receiver.db import migrate, open_database
from receiver.settings import ProviderSettings, RateLimit, Settings


async def main(db_url: str, grants: int, requests: int, per_s: float) -> None:
    db = await open_database(db_url, pool_size=2)
    await migrate(db)
    kie = ProviderSettings("kie", "http://unused", rate_limit=RateLimit(requests, per_s))
    limiters = Limiters(Settings(db=db_url, providers={"kie": kie}), db=db)
    limiter = limiters.for_operation("kie", "submit")
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for _ in range(grants):
        async with limiter.slot():
            print(f"{time.time():.4f}", flush=True)
    await db.close()


if __name__ == "__main__":
    url, n, req, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    asyncio.run(main(url, n, req, per))
