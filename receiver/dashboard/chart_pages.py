"""The pages with charts: the overview's (24 h or 7 days) and one subscriber's."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from receiver.clock import now_ms
from receiver.dashboard.chart_data import Window, overview_charts, subscriber_charts
from receiver.dashboard.render import render
from receiver.db import Database
from receiver.store.deliveries import attempts_of, delivery_to_api, list_deliveries
from receiver.store.subscribers import get_subscriber, subscriber_to_api

RECENT_DELIVERIES = 10


def window_of(request: Request) -> Window:
    """`?window=24h|7d` (24 h otherwise)."""
    return Window.ending(request.query_params.get("window", "24h"), now_ms())


async def overview_context(db: Database, request: Request) -> dict[str, Any]:
    """What the overview's chart section needs."""
    window = window_of(request)
    return {"window": window.name, "charts": await overview_charts(db, window)}


async def subscriber_page(request: Request) -> Any:
    """`/ui/subscribers/{id}`: its state, outcomes and latency per hour, recent deliveries."""
    db: Database = request.app.state.runtime.db
    sub_id = request.path_params["id"]
    row = await get_subscriber(db, sub_id)
    if row is None:
        return render(request, "error.html", status_code=404, title="Not found",
                      message=f"no subscriber {sub_id!r}")  # fmt: skip
    window = window_of(request)
    page = await list_deliveries(db, {"subscriber_id": sub_id}, limit=RECENT_DELIVERIES,
                                 cursor=None)  # fmt: skip
    attempts = await attempts_of(db, [r["id"] for r in page.rows])
    return render(
        request, "subscriber.html", sub=subscriber_to_api(row), window=window.name,
        charts=await subscriber_charts(db, sub_id, window),
        deliveries=[delivery_to_api(r, attempts[r["id"]]) for r in page.rows],
    )  # fmt: skip


def routes() -> list[BaseRoute]:
    """The subscriber page (the overview's charts render inside the overview route)."""
    return [Route("/subscribers/{id}", subscriber_page, methods=["GET"])]
