"""The dispatcher's admin API: `POST /api/tasks`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dispatcher.dispatch import Dispatch
from dispatcher.submit import submit
from dispatcher.submitter import Submitter
from receiver.errors import BadRequest
from receiver.jsondepth import loads_bounded
from receiver.slot import Slot, bind
from receiver.store.tasks import task_to_api

MAX_SUBMISSION_BYTES = 1024 * 1024


@dataclass(frozen=True)
class TaskApi:
    """What `POST /api/tasks` uses: the dispatcher and its submitter."""

    dispatch: Dispatch
    submitter: Submitter


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_SUBMISSION_BYTES:
        raise BadRequest(f"the body is over {MAX_SUBMISSION_BYTES} bytes")
    try:
        return loads_bounded(raw, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from exc


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


async def create_task(live: Slot[TaskApi], request: Request) -> Response:
    """`POST /api/tasks` `{"provider", "model", "input", "then"?}` -> 202 with the task."""
    api = live.get()
    dispatch, submitter = api.dispatch, api.submitter
    body = await _json_body(request)
    accepted = await submit(
        dispatch, submitter, body, idempotency_key=request.headers.get("idempotency-key")
    )
    headers = {} if accepted.created else {"Idempotent-Replayed": "true"}
    return JSONResponse(task_to_api(accepted.task), 202, headers=headers)


def routes(live: Slot[TaskApi]) -> list[BaseRoute]:
    """The dispatcher's routes."""
    return [Route("/api/tasks", bind(create_task, live), methods=["POST"])]
