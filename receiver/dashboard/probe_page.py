"""The dashboard's "Send test event" button: the endpoint's answer, shown at once."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from receiver.dashboard.csrf import check_csrf, read_form
from receiver.dashboard.render import render
from receiver.errors import ConfigError, TaskhookError
from receiver.fanout.fanout import Fanout
from receiver.slot import Slot, bind

log = logging.getLogger(__name__)


async def test_button(live: Slot[Fanout] | None, request: Request) -> Response:
    """`POST /ui/subscribers/{id}/test` (CSRF-checked) -> a page with the answer."""
    sub_id = request.path_params["id"]
    try:
        form = await read_form(request)
        check_csrf(form, request.scope["state"]["dashboard_session"])
        if live is None:
            raise ConfigError("this server has no fan-out part: no test event can be sent")
        result = await live.get().probe(sub_id)
    except TaskhookError as exc:
        return render(
            request, "error.html", status_code=exc.status_code,
            title="That did not work", message=exc.message,
        )  # fmt: skip
    log.info("dashboard: test event %s sent to %s", result.event_id, sub_id)
    return render(request, "probe.html", sub_id=sub_id, result=result)


def routes(live: Slot[Fanout] | None) -> list[BaseRoute]:
    """The test-event button's route."""
    return [Route("/subscribers/{id}/test", bind(test_button, live), methods=["POST"])]
