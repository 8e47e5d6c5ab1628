"""What the dispatcher's parts share: adapters, one HTTP client, limiters, the runtime.

`Dispatch.call()` is the one way a provider request is made: under the provider's
rate and concurrency limits for that operation (creating a task or reading one),
counted in `taskhook_provider_requests`, with network errors an adapter let through
turned into ProviderUnavailable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from dispatcher.providers.base import ProviderAdapter, ProviderRejected, ProviderUnavailable
from dispatcher.ratelimit import Limiters
from dispatcher.wake import WakeTimer
from receiver.clock import Clock
from receiver.errors import InvalidInput
from receiver.fanout.fanout import Fanout
from receiver.provider_state import ProviderState
from receiver.runtime import Runtime
from receiver.settings import ProviderSettings, Settings
from receiver.slot import Slot

T = TypeVar("T")


@dataclass
class Dispatch:
    """The dispatcher's live services inside one app instance."""

    runtime: Runtime
    adapters: Mapping[str, ProviderAdapter]
    client: httpx.AsyncClient
    limiters: Limiters
    # per-task webhooks need the fan-out (None: this app has no fan-out part)
    fanout: Slot[Fanout] | None = None
    # wakes the poller when a poll falls due before its next idle tick
    poll_timer: WakeTimer = field(default_factory=lambda: WakeTimer(None))
    # wakes the submitter when a retry falls due before its next idle tick
    send_timer: WakeTimer = field(default_factory=lambda: WakeTimer(None))

    @property
    def clock(self) -> Clock:
        """The app's clock: when polls and sends fall due (a test's ManualClock moves it)."""
        return self.runtime.clock

    @property
    def settings(self) -> Settings:
        """The app's settings."""
        return self.runtime.settings

    def adapter(self, provider: str) -> ProviderAdapter:
        """The adapter of `provider` (InvalidInput when there is none)."""
        found = self.adapters.get(provider)
        if found is None:
            raise InvalidInput(f"provider {provider!r} is unknown", field="provider")
        return found

    def provider_settings(self, provider: str) -> ProviderSettings:
        """Where and how to reach `provider`."""
        return self.settings.provider(provider)

    async def call(self, provider: str, operation: str, request: Callable[[], Awaitable[T]]) -> T:
        """Run one provider request under its limits and count it."""
        counter = self.runtime.metrics.provider_requests
        limit_s = self.settings.provider_timeout_s
        async with self.limiters.for_operation(provider, operation).slot():
            try:
                # the client's timeout bounds each read; this bounds the whole request
                async with asyncio.timeout(limit_s):
                    answer = await request()
            except TimeoutError as exc:
                counter.labels(provider, operation, "unavailable").inc()
                message = f"timed out: no complete {operation} answer within {limit_s:g}s"
                raise ProviderUnavailable(provider, message, code="timeout") from exc
            except ProviderRejected:
                counter.labels(provider, operation, "rejected").inc()
                raise
            except ProviderUnavailable:
                counter.labels(provider, operation, "unavailable").inc()
                raise
            except httpx.HTTPError as exc:
                counter.labels(provider, operation, "unavailable").inc()
                raise ProviderUnavailable(provider, f"{operation} request failed: {exc!r}") from exc
        counter.labels(provider, operation, "ok").inc()
        return answer

    async def query(
        self, provider: str, provider_task_id: str, task_input: Mapping[str, Any] | None = None
    ) -> ProviderState:
        """Read one task's state at its provider (one limited, counted request).

        `task_input`, the stored request when known, tells the adapter how to read it.
        """
        adapter = self.adapter(provider)
        settings = self.provider_settings(provider)
        return await self.call(
            provider,
            "query",
            lambda: adapter.query(self.client, settings, provider_task_id, task_input),
        )
