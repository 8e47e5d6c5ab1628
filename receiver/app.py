"""The Starlette application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from receiver import openapi
from receiver.auth import AdminAuthMiddleware
from receiver.body_timeout import BodyTimeoutMiddleware
from receiver.clock import Clock, SystemClock
from receiver.cost_meter import CostMeter
from receiver.db import Database, migrate, open_database
from receiver.responses import EXCEPTION_HANDLERS
from receiver.routes import admin_read, health, metrics, tick
from receiver.runtime import Part, Runtime
from receiver.settings import Settings

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    parts: Sequence[Part] = (),
    *,
    db: Database | None = None,
    clock: Clock | None = None,
) -> Starlette:
    """Build the app; the database opens (and migrates) in its lifespan.

    Pass `db` to share an already-open database (it is then not closed by the app), and
    `clock` to drive the workers' time by hand (tests).
    """
    routes: list[BaseRoute] = [
        *health.routes(),
        *admin_read.routes(),
        *metrics.routes(),
        *tick.routes(),
        *openapi.routes(),
    ]
    for part in parts:
        routes.extend(part.routes())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            runtime = await _start(settings, parts, db, stack, clock or SystemClock())
            app.state.runtime = runtime
            yield
            log.info("shutting down: stopping workers")
            await runtime.runner.stop()

    def admin_token() -> str | None:
        return settings.admin_token

    middleware = [
        Middleware(BodyTimeoutMiddleware, timeout_s=settings.body_read_timeout_s),
        Middleware(AdminAuthMiddleware, token=admin_token),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.parts = tuple(parts)  # for inspection (tests, tools); parts hold their slots
    return app


async def _start(
    settings: Settings,
    parts: Sequence[Part],
    db: Database | None,
    stack: AsyncExitStack,
    clock: Clock,
) -> Runtime:
    if db is None:
        db = await open_database(settings.db)
        stack.push_async_callback(db.close)
        await migrate(db)
    runtime = Runtime(settings=settings, db=db, clock=clock)
    runtime.completion_hooks.append(CostMeter(runtime.metrics))
    writer = runtime.group_writer()
    writer.start()
    stack.push_async_callback(writer.close)
    for part in parts:
        await part.start(runtime, stack)
    if settings.workers:
        runtime.runner.start()
    return runtime
