"""The dashboard's pages. Each page also answers `?partial=1` with just its live region."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from receiver.clock import now_ms
from receiver.dashboard import actions, chart_pages, login, probe_page, queries
from receiver.dashboard.collaborators import Collaborators
from receiver.dashboard.render import render
from receiver.db import Database, Row
from receiver.errors import NotFound
from receiver.media.archive import archived_media
from receiver.slot import bind
from receiver.statuses import TASK_STATUSES, TERMINAL
from receiver.store.estimate import progress_estimate

STATIC = Path(__file__).parent / "static"
URL_EXPIRY_MS = 24 * 3600 * 1000


def _db(request: Request) -> Database:
    db: Database = request.app.state.runtime.db
    return db


def _page(request: Request, name: str, **context: Any) -> HTMLResponse:
    """The full page, or only its live region when `?partial=1`."""
    partial = request.query_params.get("partial") == "1"
    template = f"_{name}.html" if partial else f"{name}.html"
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not partial:
        context["live_url"] = here + ("&" if "?" in here else "?") + "partial=1"
    return render(request, template, **context)


def _query(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    return {n: request.query_params.get(n, "").strip() for n in names}


async def overview_page(links: Collaborators, request: Request) -> Response:
    """`/ui/`: tasks per status and deliveries over 24 h, queue depths now."""
    found = await queries.overview(_db(request))
    charts = {} if request.query_params.get("partial") == "1" else (
        await chart_pages.overview_context(_db(request), request))  # fmt: skip
    accounts = await provider_accounts(links)
    return _page(request, "overview", overview=found, statuses=TASK_STATUSES, accounts=accounts,
                 **charts)  # fmt: skip


def _expired(row: Row, completed: int | None) -> bool:
    """Past the result's `expires_at`, else more than the usual 24 h after completion."""
    expires = row.get("expires_at")
    if expires is not None:
        return bool(now_ms() >= expires)
    return completed is not None and now_ms() - completed > URL_EXPIRY_MS


async def provider_accounts(links: Collaborators) -> list[dict[str, object]]:
    """Each provider's base URL, key and credits, when the dispatcher part is running."""
    reader = links.accounts.peek() if links.accounts is not None else None
    return [] if reader is None else await reader()


async def tasks_page(request: Request) -> Response:
    """`/ui/tasks?status=&provider=&model=`: the live task table."""
    wanted = _query(request, queries.TASK_FILTERS)
    if wanted["status"] and wanted["status"] not in TASK_STATUSES:
        wanted["status"] = ""
    db = _db(request)
    rows = await queries.tasks(db, wanted)
    choices = await queries.task_choices(db)
    choices["status"] = list(TASK_STATUSES)
    return _page(request, "tasks", tasks=rows, filters=wanted, choices=choices)


async def task_page(links: Collaborators, request: Request) -> Response:
    """`/ui/tasks/{id}`: request, timeline, result (with a video player), error."""
    db = _db(request)
    try:
        row = await queries.task(db, request.path_params["id"])
    except NotFound as exc:
        return render(
            request, "error.html", status_code=404, title="Not found", message=exc.message
        )
    completed = row["completed_at"]
    return _page(
        request,
        "task",
        task=row,
        terminal=row["status"] in TERMINAL,
        history=await queries.task_history(db, row["id"]),
        events=await queries.task_events(db, row["id"]),
        urls_may_be_expired=_expired(row, completed),
        estimate=progress_estimate(row),
        media=await archived_media(links.media, db, row["id"]),
    )


async def events_page(request: Request) -> Response:
    """`/ui/events?task_id=&dead=1`: events with every subscriber's deliveries and attempts."""
    task_id = request.query_params.get("task_id", "").strip()
    dead_only = request.query_params.get("dead") == "1"
    found = await queries.events(_db(request), task_id=task_id, dead_only=dead_only)
    return _page(
        request,
        "events",
        events=found,
        task_id=task_id,
        dead_only=dead_only,
        dead_states=queries.DEAD_STATES,
        success_states=queries.SUCCESS_STATES,
    )


async def subscribers_page(request: Request) -> Response:
    """`/ui/subscribers`: kind, filter, health, pause/resume."""
    return _page(request, "subscribers", subscribers=await queries.subscribers(_db(request)))


async def callbacks_page(request: Request) -> Response:
    """`/ui/callbacks?provider=&verdict=`: the audit log of inbound callbacks."""
    wanted = _query(request, queries.CALLBACK_FILTERS)
    db = _db(request)
    return _page(
        request,
        "callbacks",
        callbacks=await queries.callbacks(db, wanted),
        filters=wanted,
        choices=await queries.callback_choices(db),
    )


def routes(links: Collaborators) -> list[BaseRoute]:
    """The routes inside the `/ui` mount."""
    return [
        Route("/", bind(overview_page, links), methods=["GET"]),
        Route("/tasks", tasks_page, methods=["GET"]),
        Route("/tasks/{id}", bind(task_page, links), methods=["GET"]),
        Route("/events", events_page, methods=["GET"]),
        Route("/subscribers", subscribers_page, methods=["GET"]),
        Route("/callbacks", callbacks_page, methods=["GET"]),
        *login.routes(),
        *actions.routes(),
        *probe_page.routes(links.fanout),
        *chart_pages.routes(),
        Mount("/static", app=StaticFiles(directory=STATIC), name="dashboard-static"),
    ]
