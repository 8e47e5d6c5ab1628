"""The provider emulator app: kie.ai, foxapi and toapis on one port.

Routes at the root, as the providers serve them:

    POST /api/v1/jobs/createTask            kie
    GET  /api/v1/jobs/recordInfo?taskId=    kie
    GET  /v1/tasks/{id}                     foxapi
    GET  /v1/videos/generations/{id}        toapis
    POST /v1/videos/generations             foxapi or toapis, told apart by the body

foxapi and toapis share `POST /v1/videos/generations`; at the root, a body with a
toapis-only model (`sora-2-vip`) or field (`url`, `from_task`, `timestamps`,
`character_url`) goes to toapis, anything else to foxapi. For an unambiguous split give
each provider its own base: `{emulator}/kie`, `{emulator}/foxapi`, `{emulator}/toapis`
serve exactly that provider's routes. Test hooks live under `/_emulator/` (see
`dispatcher.emulator.control`) and docs/EMULATOR.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from dispatcher.emulator import control, files, foxapi, kie, toapis
from dispatcher.emulator.config import EmulatorConfig
from dispatcher.emulator.context import Emulator

TOAPIS_ONLY_MODELS = frozenset(set(toapis.MODELS) - set(foxapi.MODELS))
TOAPIS_ONLY_FIELDS = frozenset({*toapis.CHARACTER_FIELDS, "character_url"})


def create_emulator_app(config: EmulatorConfig) -> Starlette:
    """A Starlette app emulating the three providers; callbacks run in its lifespan."""
    emu = Emulator(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with emu.sender.running():
            yield

    middleware = [Middleware(files.FilesBaseMiddleware, base_url=config.files_base_url)]
    app = Starlette(routes=_routes(), lifespan=lifespan,
                    middleware=middleware if config.serve_files else None)  # fmt: skip
    app.state.emulator = emu
    return app


def _routes() -> list[BaseRoute]:
    root_reads = [r for r in [*foxapi.routes(), *toapis.routes()]
                  if isinstance(r, Route) and r.methods and "GET" in r.methods]  # fmt: skip
    return [
        *control.routes(),
        *files.routes(),
        *kie.routes(),
        Route("/v1/videos/generations", create_generation, methods=["POST"]),
        *root_reads,
        Mount("/kie", routes=kie.routes()),
        Mount("/foxapi", routes=foxapi.routes()),
        Mount("/toapis", routes=toapis.routes()),
    ]


def provider_for(body: Any) -> str:
    """Which provider a root `POST /v1/videos/generations` body is meant for."""
    if isinstance(body, dict) and (
        body.get("model") in TOAPIS_ONLY_MODELS or TOAPIS_ONLY_FIELDS & body.keys()
    ):
        return toapis.NAME
    return foxapi.NAME


async def create_generation(request: Request) -> Response:
    """Route a shared-path create to foxapi or toapis."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if provider_for(body) == toapis.NAME:
        return await toapis.create(request)
    return await foxapi.create(request)
