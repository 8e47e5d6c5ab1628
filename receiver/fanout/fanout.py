"""`Fanout`: the fan-out's live services (guard, subscriptions, worker, client).

Filled by `FanoutPart.start()` and handed, through a `Slot[Fanout]`, to the
subscriber and delivery routes, the dashboard and the dispatcher's per-task webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import httpx

from receiver.errors import ConfigError
from receiver.fanout.guarded_transport import GuardedTransport
from receiver.fanout.probe import ProbeResult, send_test_event
from receiver.fanout.ssrf import Resolver, UrlGuard, system_resolver
from receiver.fanout.subscriptions import Subscriptions
from receiver.fanout.worker import DeliveryWorker
from receiver.settings import Settings
from receiver.sharded_transport import DEFAULT_SHARD_SIZE, ShardedTransport
from receiver.workers import WorkerRunner

MISSING_KEY_MESSAGE = (
    "TASKHOOK_SECRET_KEY is not set, so subscriber secrets cannot be stored: "
    "set it (at least 32 characters) and restart"
)


@dataclass
class Fanout:
    """The fan-out of one app: always a URL guard; the rest only with a secret key."""

    settings: Settings
    runner: WorkerRunner
    guard: UrlGuard
    subscriptions: Subscriptions | None = None
    worker: DeliveryWorker | None = None
    client: httpx.AsyncClient | None = None  # the guarded delivery client (test events too)

    def require(self) -> Subscriptions:
        """The subscriber service, or a clear error when no secret key is configured."""
        if self.subscriptions is None:
            raise ConfigError(MISSING_KEY_MESSAGE)
        return self.subscriptions

    def wake(self) -> None:
        """Look for due deliveries now (after a replay queued some)."""
        self.runner.wake(DeliveryWorker.name)

    async def probe(self, sub_id: str) -> ProbeResult:
        """Send one signed test event to a subscriber, answered at once (API and dashboard)."""
        subs = self.require()
        row = await subs.get(sub_id)
        if self.client is None:  # pragma: no cover - set whenever subscriptions are
            raise ConfigError(MISSING_KEY_MESSAGE)
        timeout_s = self.settings.delivery_timeout_s
        return await send_test_event(row, subs.box, self.guard, self.client, timeout_s)


def guard_from(settings: Settings, resolver: Resolver = system_resolver) -> UrlGuard:
    """The URL guard the settings ask for."""
    return UrlGuard(
        allow_http=settings.allow_http_subscribers,
        allow_private=settings.allow_private_subscribers,
        resolver=resolver,
    )


def delivery_client(
    guard: UrlGuard, timeout_s: float, concurrency: int = DEFAULT_SHARD_SIZE
) -> httpx.AsyncClient:
    """The client every delivery goes through: guarded connections, no redirects, no proxies."""
    shards = -(-max(1, concurrency) // DEFAULT_SHARD_SIZE)
    make = partial(GuardedTransport, guard, max_connections=DEFAULT_SHARD_SIZE * 2)
    return httpx.AsyncClient(
        transport=ShardedTransport(make, shards),
        timeout=timeout_s,
        follow_redirects=False,
        trust_env=False,
    )
