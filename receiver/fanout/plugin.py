"""The fan-out part of the app: subscriber/delivery routes, the delivery worker, its client."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial

import httpx
from starlette.routing import BaseRoute

from receiver.errors import ConfigError
from receiver.fanout import logfilter
from receiver.fanout.guarded_transport import GuardedTransport
from receiver.fanout.sinks import build_sinks, close_sinks
from receiver.fanout.ssrf import Resolver, UrlGuard, system_resolver
from receiver.fanout.subscriptions import Subscriptions
from receiver.fanout.worker import DeliveryWorker
from receiver.routes import deliveries, probes, subscribers
from receiver.runtime import Runtime
from receiver.settings import Settings
from receiver.sharded_transport import DEFAULT_SHARD_SIZE, ShardedTransport

log = logging.getLogger(__name__)
SERVICE = "fanout"


@dataclass
class Fanout:
    """What the routes reach through `runtime.services["fanout"]`."""

    guard: UrlGuard
    subscriptions: Subscriptions | None
    worker: DeliveryWorker | None
    client: httpx.AsyncClient | None = None  # the guarded delivery client (test events too)

    def require(self) -> Subscriptions:
        """The subscriber service, or a clear error when no secret key is configured."""
        if self.subscriptions is None:
            raise ConfigError(
                "TASKHOOK_SECRET_KEY is not set, so subscriber secrets cannot be stored: "
                "set it (at least 32 characters) and restart"
            )
        return self.subscriptions


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


class FanoutPlugin:
    """Durable, signed delivery of events to webhooks, Slack and Discord."""

    def __init__(self, resolver: Resolver = system_resolver) -> None:
        self._resolver = resolver

    def routes(self) -> list[BaseRoute]:
        """`/api/subscribers...`, `/api/deliveries...`, `/api/events/{id}/replay`."""
        return [*subscribers.routes(), *deliveries.routes(), *probes.routes()]

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        """Create the client and the worker (the worker only when a secret key is set)."""
        settings = runtime.settings
        logfilter.install()
        guard = guard_from(settings, self._resolver)
        fanout = Fanout(guard, None, None)
        runtime.services[SERVICE] = fanout
        if not settings.secret_key:
            log.warning("fan-out is off: TASKHOOK_SECRET_KEY is not set")
            return
        subscriptions = Subscriptions.from_settings(runtime.db, settings, guard)
        client = delivery_client(guard, settings.delivery_timeout_s, settings.delivery_concurrency)
        stack.push_async_callback(client.aclose)
        fanout.subscriptions = subscriptions
        fanout.client = client
        sinks = build_sinks(guard)
        stack.push_async_callback(close_sinks, sinks)
        fanout.worker = DeliveryWorker(
            runtime.db, settings, client, sinks, subscriptions.box, runtime.metrics,
            batch_size=settings.delivery_concurrency, concurrency=settings.delivery_concurrency,
        )  # fmt: skip
        runtime.runner.add(fanout.worker)
