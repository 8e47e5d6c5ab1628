"""`CallbacksPlugin`: the callback routes, the audit list API and the inbox worker."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from starlette.routing import BaseRoute

from receiver.callbacks import routes as callback_routes
from receiver.callbacks.audit_cap import AuditCapWorker
from receiver.callbacks.processor import InboxOptions, InboxWorker
from receiver.callbacks.sources import build_sources
from receiver.routes import callbacks_admin
from receiver.runtime import Runtime
from receiver.settings import PROVIDERS

log = logging.getLogger(__name__)


class CallbacksPlugin:
    """Receives provider callbacks durably and processes them off the request path."""

    def __init__(self, options: InboxOptions | None = None) -> None:
        self._options = options or InboxOptions()

    def routes(self) -> list[BaseRoute]:
        """`POST /callbacks/...` and `GET /api/callbacks`."""
        return [*callback_routes.routes(), *callbacks_admin.routes()]

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        """Check the configured sources and register the inbox worker."""
        sources = build_sources(runtime.settings)
        for name in runtime.settings.standard_webhook_sources:
            if name in PROVIDERS:
                log.warning("Standard Webhooks source %r ignored: %s is a provider name "
                            "with its own callback scheme", name, name)  # fmt: skip
        runtime.services[callback_routes.SOURCES_SERVICE] = sources
        runtime.runner.add(InboxWorker(runtime, sources, self._options))
        audit_cap = AuditCapWorker(runtime)
        runtime.services[callback_routes.AUDIT_CAP_SERVICE] = audit_cap
        runtime.runner.add(audit_cap)
