"""`DispatchPart`: submitting, sending, polling and chaining, as one part of the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import AsyncExitStack

import httpx
from starlette.routing import BaseRoute

from dispatcher import routes
from dispatcher.chaining import ChainHook
from dispatcher.dispatch import Dispatch
from dispatcher.per_task import InheritHook
from dispatcher.poller import Poller
from dispatcher.providers import adapters as default_adapters
from dispatcher.providers.base import ProviderAdapter
from dispatcher.providers.credits import AccountsCache
from dispatcher.ratelimit import Limiters
from dispatcher.routes import TaskApi
from dispatcher.submitter import Submitter
from dispatcher.wake import WakeTimer
from receiver.dashboard.collaborators import ProviderAccounts
from receiver.fanout.fanout import Fanout
from receiver.provider_state import ProviderState
from receiver.runtime import Runtime
from receiver.settings import PROVIDERS
from receiver.sharded_transport import ShardedTransport
from receiver.slot import Slot

log = logging.getLogger(__name__)

PROVIDER_CONNECT_TIMEOUT_S = 10.0
CHILD_WAKE_DELAY_MS = 50


class DispatchPart:
    """Routes (`POST /api/tasks`), the submitter and poller workers, chaining; it also
    confirms callbacks (a `Confirmer`) and reads providers' credits for the dashboard.

    `fanout`: the fan-out part's slot, for per-task webhooks (None: no fan-out here).
    """

    def __init__(
        self,
        adapters: Mapping[str, ProviderAdapter] | None = None,
        *,
        fanout: Slot[Fanout] | None = None,
    ) -> None:
        self._adapters = adapters if adapters is not None else default_adapters()
        self._fanout = fanout
        self.dispatch: Slot[Dispatch] = Slot("the dispatcher")
        self.accounts: Slot[ProviderAccounts] = Slot("the dispatcher")
        self._api: Slot[TaskApi] = Slot("the dispatcher")

    def routes(self) -> list[BaseRoute]:
        """`POST /api/tasks`."""
        return routes.routes(self._api)

    def confirms(self, provider: str) -> bool:
        """Whether this dispatcher can re-read `provider`'s tasks."""
        return provider in self._adapters

    async def confirm(self, provider: str, provider_task_id: str) -> ProviderState:
        """Re-read one task at its provider, under the provider's query budget."""
        return await self.dispatch.get().query(provider, provider_task_id)

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        """One provider client for the app's life; workers and the chain hook."""
        client = _provider_client(runtime)
        stack.push_async_callback(client.aclose)
        limiters = Limiters(runtime.settings, db=runtime.db)
        dispatch = Dispatch(runtime, self._adapters, client, limiters, self._fanout)
        dispatch.poll_timer = WakeTimer(lambda: runtime.runner.wake(Poller.name), runtime.clock)
        dispatch.send_timer = WakeTimer(lambda: runtime.runner.wake(Submitter.name), runtime.clock)
        stack.callback(dispatch.poll_timer.cancel)
        stack.callback(dispatch.send_timer.cancel)
        submitter = Submitter(dispatch)
        stack.push_async_callback(submitter.aclose)  # before the client closes (LIFO)
        self.dispatch.fill(dispatch)
        self._api.fill(TaskApi(dispatch, submitter))
        self.accounts.fill(AccountsCache(client, runtime.settings))
        runtime.runner.add(submitter)
        runtime.runner.add(Poller(dispatch))
        self._add_hooks(runtime, dispatch)
        if runtime.settings.public_url is None:
            log.warning(
                "TASKHOOK_PUBLIC_URL is not set: providers cannot call back, so every task "
                "will be polled (set it to this server's external URL to receive callbacks)"
            )

    def _add_hooks(self, runtime: Runtime, dispatch: Dispatch) -> None:
        loop = asyncio.get_running_loop()

        def wake_submitter() -> None:
            # called inside the parent's transaction, which may run in the SQLite writer's
            # thread: arm the timer on the loop, to look a moment after the commit
            due = runtime.clock.now_ms() + CHILD_WAKE_DELAY_MS
            loop.call_soon_threadsafe(dispatch.send_timer.arm, due)

        hook = ChainHook(runtime.settings.task_deadline_s, wake=wake_submitter)
        runtime.completion_hooks.append(hook)
        runtime.completion_hooks.append(InheritHook(self._fanout))  # after the chain hook


def _provider_client(runtime: Runtime) -> httpx.AsyncClient:
    timeout_s = runtime.settings.provider_timeout_s
    timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, PROVIDER_CONNECT_TIMEOUT_S))
    reads = max(ps.query_concurrency for ps in map(runtime.settings.provider, PROVIDERS))
    transport = ShardedTransport.for_concurrency(reads)
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, transport=transport)
