"""`CallbacksPart`: the callback routes, the audit list API and the inbox worker."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from starlette.routing import BaseRoute

from receiver.callbacks import audit_routes
from receiver.callbacks import routes as callback_routes
from receiver.callbacks.audit_cap import AuditCapWorker
from receiver.callbacks.confirmer import Confirmer
from receiver.callbacks.processor import InboxOptions, InboxWorker
from receiver.callbacks.routes import Receiving
from receiver.callbacks.sources import build_sources
from receiver.runtime import Runtime
from receiver.settings import PROVIDERS
from receiver.slot import Slot

log = logging.getLogger(__name__)


class CallbacksPart:
    """Receives provider callbacks durably and processes them off the request path.

    `confirmer` re-reads tasks whose callback bodies are not signed (the dispatcher).
    """

    def __init__(
        self, options: InboxOptions | None = None, *, confirmer: Confirmer | None = None
    ) -> None:
        self._options = options or InboxOptions()
        self._confirmer = confirmer
        self.receiving: Slot[Receiving] = Slot("the callback receiver")

    def routes(self) -> list[BaseRoute]:
        """`POST /callbacks/...` and `GET /api/callbacks`."""
        return [*callback_routes.routes(self.receiving), *audit_routes.routes()]

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        """Check the configured sources and register the inbox and audit-size workers."""
        sources = build_sources(runtime.settings)
        for name in runtime.settings.standard_webhook_sources:
            if name in PROVIDERS:
                log.warning("Standard Webhooks source %r ignored: %s is a provider name "
                            "with its own callback scheme", name, name)  # fmt: skip
        runtime.runner.add(InboxWorker(runtime, sources, self._options, self._confirmer))
        audit_cap = AuditCapWorker(runtime)
        runtime.runner.add(audit_cap)
        self.receiving.fill(Receiving(sources, audit_cap))
