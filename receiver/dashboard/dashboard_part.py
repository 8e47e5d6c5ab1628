"""`DashboardPart`: mounts the dashboard at `/ui` behind its session guard."""

from __future__ import annotations

from contextlib import AsyncExitStack

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from receiver.dashboard import routes as pages
from receiver.dashboard.collaborators import Collaborators
from receiver.dashboard.csrf import MAX_FORM_BYTES
from receiver.dashboard.guard import DashboardGuard
from receiver.runtime import Runtime


async def _to_overview(request: Request) -> Response:
    return RedirectResponse("/ui/", status_code=307)


class DashboardPart:
    """The web dashboard: server-rendered pages reading the store, no workers of its own.

    `links`: the other parts' slots whose services the pages show (credits, media,
    test events); each is optional.
    """

    def __init__(self, links: Collaborators | None = None) -> None:
        self._links = links or Collaborators()

    def routes(self) -> list[BaseRoute]:
        """`/ui` (redirect) and everything under `/ui/`."""
        return [
            Route("/ui", _to_overview, methods=["GET"]),
            Mount(
                "/ui",
                routes=pages.routes(self._links),
                middleware=[Middleware(DashboardGuard)],
                max_body_size=MAX_FORM_BYTES,
            ),
        ]

    async def start(self, runtime: Runtime, stack: AsyncExitStack) -> None:
        """Nothing to start: the pages read the store on request."""
        return None
