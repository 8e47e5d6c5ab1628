"""`DispatchPlugin`: submitting, sending, polling and chaining, as one part of the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import AsyncExitStack

import httpx
from starlette.routing import BaseRoute

from dispatcher import routes
from dispatcher.chaining import ChainHook
from dispatcher.context import Dispatch
from dispatcher.per_task import InheritHook
from dispatcher.poller import Poller
from dispatcher.providers import adapters as default_adapters
from dispatcher.providers.base import ProviderAdapter
from dispatcher.providers.credits import AccountsCache
from dispatcher.ratelimit import Limiters
from dispatcher.submitter import Submitter
from dispatcher.wake import WakeTimer
from receiver.clock import now_ms
from receiver.provider_state import ProviderState
from receiver.runtime import Confirmer, Runtime
from receiver.settings import PROVIDERS
from receiver.sharded_transport import ShardedTransport

log = logging.getLogger(__name__)

PROVIDER_CONNECT_TIMEOUT_S = 10.0
CHILD_WAKE_DELAY_MS = 50


class DispatchPlugin:
    """Routes (`POST /api/tasks`), the submitter and poller workers, confirmers, chaining."""

    def __init__(self, adapters: Mapping[str, ProviderAdapter] | None = None) -> None:
        self._adapters = adapters

    def routes(self) -> list[BaseRoute]:
        """`POST /api/tasks`."""
        return routes.routes()

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        """One provider client for the app's life; workers, confirmers and the chain hook."""
        timeout_s = runtime.settings.provider_timeout_s
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, PROVIDER_CONNECT_TIMEOUT_S))
        reads = max(ps.query_concurrency for ps in map(runtime.settings.provider, PROVIDERS))
        transport = ShardedTransport.for_concurrency(reads)
        client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, transport=transport)
        stack.push_async_callback(client.aclose)
        adapters = self._adapters if self._adapters is not None else default_adapters()
        dispatch = Dispatch(runtime, adapters, client, Limiters(runtime.settings, db=runtime.db))
        dispatch.poll_timer = WakeTimer(lambda: runtime.runner.wake(Poller.name))
        dispatch.send_timer = WakeTimer(lambda: runtime.runner.wake(Submitter.name))
        stack.callback(dispatch.poll_timer.cancel)
        stack.callback(dispatch.send_timer.cancel)
        submitter = Submitter(dispatch)
        stack.push_async_callback(submitter.aclose)  # before the client closes (LIFO)
        runtime.services["dispatch"] = dispatch
        runtime.services["submitter"] = submitter
        # the dashboard shows providers' credits through this (receiver cannot import us)
        runtime.services["provider_accounts"] = AccountsCache(client, runtime.settings)
        runtime.runner.add(submitter)
        runtime.runner.add(Poller(dispatch))
        for name in adapters:
            runtime.confirmers[name] = _confirmer(dispatch, name)

        loop = asyncio.get_running_loop()

        def wake_submitter() -> None:
            # called inside the parent's transaction, which may run in the SQLite writer's
            # thread: arm the timer on the loop, to look a moment after the commit
            loop.call_soon_threadsafe(dispatch.send_timer.arm, now_ms() + CHILD_WAKE_DELAY_MS)

        hook = ChainHook(runtime.settings.task_deadline_s, wake=wake_submitter)
        runtime.completion_hooks.append(hook)
        runtime.completion_hooks.append(InheritHook(runtime))  # after the chain hook
        if runtime.settings.public_url is None:
            log.warning(
                "TASKHOOK_PUBLIC_URL is not set: providers cannot call back, so every task "
                "will be polled (set it to this server's external URL to receive callbacks)"
            )


def _confirmer(dispatch: Dispatch, provider: str) -> Confirmer:
    async def confirm(provider_task_id: str) -> ProviderState:
        return await dispatch.query(provider, provider_task_id)

    return confirm
