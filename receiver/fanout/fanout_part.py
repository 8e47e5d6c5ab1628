"""`FanoutPart`: subscriber/delivery routes, the delivery worker and its client."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from starlette.routing import BaseRoute

from receiver.fanout import delivery_routes, logfilter, probe_routes, subscriber_routes
from receiver.fanout.fanout import Fanout, delivery_client, guard_from
from receiver.fanout.sinks import build_sinks, close_sinks
from receiver.fanout.ssrf import Resolver, system_resolver
from receiver.fanout.subscriptions import Subscriptions
from receiver.fanout.worker import DeliveryWorker
from receiver.runtime import Runtime
from receiver.slot import Slot

log = logging.getLogger(__name__)


class FanoutPart:
    """Durable, signed delivery of events to webhooks, Slack, Discord and queues."""

    def __init__(self, resolver: Resolver = system_resolver) -> None:
        self._resolver = resolver
        self.fanout: Slot[Fanout] = Slot("fan-out")

    def routes(self) -> list[BaseRoute]:
        """`/api/subscribers...`, `/api/deliveries...`, `/api/events/{id}/replay`."""
        live = self.fanout
        return [
            *subscriber_routes.routes(live),
            *delivery_routes.routes(live),
            *probe_routes.routes(live),
        ]

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        """Create the client and the worker (the worker only when a secret key is set)."""
        settings = runtime.settings
        logfilter.install()
        fanout = Fanout(settings, runtime.runner, guard_from(settings, self._resolver))
        self.fanout.fill(fanout)
        if not settings.secret_key:
            log.warning("fan-out is off: TASKHOOK_SECRET_KEY is not set")
            return
        fanout.subscriptions = Subscriptions.from_settings(runtime.db, settings, fanout.guard)
        fanout.client = delivery_client(
            fanout.guard, settings.delivery_timeout_s, settings.delivery_concurrency
        )
        stack.push_async_callback(fanout.client.aclose)
        sinks = build_sinks(fanout.guard)
        stack.push_async_callback(close_sinks, sinks)
        fanout.worker = DeliveryWorker(
            runtime.db, settings, fanout.client, sinks, fanout.subscriptions.box,
            runtime.metrics, batch_size=settings.delivery_concurrency,
            concurrency=settings.delivery_concurrency,
        )  # fmt: skip
        runtime.runner.add(fanout.worker)
