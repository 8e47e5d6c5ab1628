"""The dashboard's buttons: replay a delivery, pause or resume a subscriber (CSRF-checked)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.dashboard import queries
from receiver.dashboard.csrf import check_csrf, read_form
from receiver.dashboard.login import safe_next
from receiver.dashboard.render import render
from receiver.errors import Conflict, TaskhookError
from receiver.fanout.subscriptions import set_paused
from receiver.runtime import Runtime
from receiver.store.deliveries import replay_event

log = logging.getLogger(__name__)
Action = Callable[[Runtime, str], Awaitable[str | None]]


async def _replay(runtime: Runtime, delivery_id: str) -> str | None:
    old = await queries.delivery(runtime.db, delivery_id)
    queued = await replay_event(runtime.db, old["event_id"], old["subscriber_id"])
    if not queued:
        raise Conflict("this delivery was replayed at the same moment: reload the page")
    runtime.runner.wake()
    log.info("dashboard: delivery %s replayed as %s", delivery_id, queued[0]["id"])
    return f"#delivery-{queued[0]['id']}"


async def _pause(runtime: Runtime, subscriber_id: str) -> str | None:
    await set_paused(runtime.db, subscriber_id, paused=True)
    log.info("dashboard: subscriber %s paused", subscriber_id)
    return None


async def _resume(runtime: Runtime, subscriber_id: str) -> str | None:
    await set_paused(runtime.db, subscriber_id, paused=False)
    runtime.runner.wake()
    log.info("dashboard: subscriber %s resumed", subscriber_id)
    return None


def _endpoint(action: Action, default_next: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            form = await read_form(request)
            check_csrf(form, request.scope["state"]["dashboard_session"])
            anchor = await action(request.app.state.runtime, request.path_params["id"])
        except TaskhookError as exc:
            return render(
                request, "error.html", status_code=exc.status_code,
                title="That did not work", message=exc.message,
            )  # fmt: skip
        target = safe_next(form.get("next") or default_next)
        return RedirectResponse(target.split("#")[0] + (anchor or ""), status_code=303)

    return endpoint


def routes() -> list[BaseRoute]:
    """The state-changing routes (POST only)."""
    return [
        Route("/deliveries/{id}/replay", _endpoint(_replay, "/ui/events"), methods=["POST"]),
        Route("/subscribers/{id}/pause", _endpoint(_pause, "/ui/subscribers"), methods=["POST"]),
        Route("/subscribers/{id}/resume", _endpoint(_resume, "/ui/subscribers"), methods=["POST"]),
    ]
