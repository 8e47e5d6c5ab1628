"""The dashboard in a real browser: Debian's chromium driven by Playwright, against the full app.

Screenshots of the main pages at 1280 px and 390 px go to artifacts/screenshots/ (not committed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatcher.compose import build_app
from receiver.db import Database
from receiver.settings import Settings
from tests.receiver.dashboard_seed import (
    XSS,
    complete_task,
    seed_callback,
    seed_delivery,
    seed_event,
    seed_subscriber,
    seed_task,
)
from tests.receiver.fanout_support import fanout_of
from tests.support import ADMIN_TOKEN, SECRET_KEY, live_server

try:
    from playwright.async_api import Page, async_playwright, expect
except ImportError:  # pragma: no cover - depends on the machine
    async_playwright = None

CHROMIUM = os.environ.get("TASKHOOK_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
LIVE_TIMEOUT_MS = 10_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(async_playwright is None, reason="playwright is not installed (pip)"),
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
        reason=f"no chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A local webhook subscriber that accepts everything; yields its URL and what it got."""
    got: list[dict[str, Any]] = []

    async def hook(request: Request) -> Response:
        got.append(json.loads(await request.body()))
        return Response("ok")

    async def video(request: Request) -> Response:
        return Response(b"", status_code=404)

    app = Starlette(
        routes=[Route("/hook", hook, methods=["POST"]), Route("/v.mp4", video, methods=["GET"])]
    )
    async with live_server(app) as base:
        yield base, got


async def add_subscriber(app: Starlette, db: Database, url: str) -> tuple[str, bool]:
    """A webhook subscriber through the fan-out service when it runs; else straight in the store.

    Returns its id and whether a delivery worker will really deliver to it.
    """
    fanout = fanout_of(app)
    if fanout.worker is not None:
        created = await fanout.require().create(url, "webhook")
        return str(created["id"]), True
    return await seed_subscriber(db, url), False


async def shoot(page: Page, name: str) -> None:
    for label, (width, height) in WIDTHS.items():
        await page.set_viewport_size({"width": width, "height": height})
        await page.wait_for_timeout(150)
        await page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})


async def log_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/ui/tasks")
    assert "/ui/login" in page.url
    await page.fill("#token", "wrong-token")
    await page.click("button[type=submit]")
    await expect(page.locator(".alert")).to_contain_text("not the admin token")
    await shoot(page, "login")
    await page.fill("#token", ADMIN_TOKEN)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/ui/tasks")


async def test_dashboard_end_to_end_in_chromium(tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        db=str(tmp_path / "taskhook.db"), admin_token=ADMIN_TOKEN, secret_key=SECRET_KEY,
        allow_http_subscribers=True, allow_private_subscribers=True,
    )  # fmt: skip
    app = build_app(settings)
    async with webhook_receiver() as (hook_base, received), live_server(app) as base:
        db: Database = app.state.runtime.db
        sub, delivers = await add_subscriber(app, db, f"{hook_base}/hook")
        await seed_subscriber(db, "https://hooks.slack.com/services/***", kind="slack")
        live = await seed_task(db, status="running", progress=35)
        await seed_task(db, status="submitted", progress=0, model="veo3")
        failed = await seed_task(db, status="failed", progress=60)
        await db.execute(
            "UPDATE tasks SET error = ? WHERE id = ?",
            json.dumps({"code": "content_policy", "message": "prompt refused: " + XSS}), failed,
        )  # fmt: skip
        old = await seed_task(db, status="running")
        await complete_task(db, old, {"video_urls": [f"{hook_base}/v.mp4"]})
        event = await seed_event(db, old)
        dead = await seed_delivery(db, event, sub, state="dead", attempts=3)
        await seed_callback(db, old)
        video_url = f"{hook_base}/v.mp4?task={live}"

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                dialogs: list[str] = []

                async def on_dialog(dialog: Any) -> None:
                    dialogs.append(dialog.message)
                    await dialog.dismiss()

                page.on("dialog", on_dialog)
                await log_in(page, base)

                # a task completes while the table is open: the row changes by itself
                row = page.locator(f"#task-{live}")
                await expect(row).to_have_attribute("data-status", "running")
                await shoot(page, "tasks")
                await complete_task(db, live, {"video_urls": [video_url]})
                await expect(row).to_have_attribute(
                    "data-status", "succeeded", timeout=LIVE_TIMEOUT_MS
                )
                await expect(row.locator(".badge")).to_have_text("succeeded")

                # its detail page plays the result
                await row.locator("a").first.click()
                await page.wait_for_url(f"{base}/ui/tasks/{live}")
                await expect(page.locator(f'video[src="{video_url}"]')).to_have_count(1)
                await shoot(page, "task-detail")
                await page.goto(f"{base}/ui/tasks/{failed}")
                await expect(page.locator(".error-box")).to_contain_text("prompt refused: " + XSS)
                await shoot(page, "task-failed")

                # replay the dead delivery
                await page.goto(f"{base}/ui/events")
                dead_item = page.locator(f"#delivery-{dead}")
                await expect(dead_item).to_have_class(re.compile(r"\bdead\b"))
                await shoot(page, "events")
                await dead_item.get_by_role("button", name="Replay").click()
                replayed = page.locator(f'#event-{event} li.delivery[data-generation="1"]')
                await expect(replayed).to_have_count(1)
                if delivers:
                    await expect(replayed).to_have_attribute(
                        "data-state", "delivered", timeout=LIVE_TIMEOUT_MS
                    )
                    assert [m["id"] for m in received] == [event]
                else:
                    await expect(replayed).to_have_attribute("data-state", "pending")
                await expect(dead_item).to_have_attribute("data-state", "dead")
                await shoot(page, "events-replayed")

                # a callback body carrying HTML is text, never markup
                await page.goto(f"{base}/ui/callbacks")
                body = page.locator("pre.body").first
                await expect(body).to_contain_text(XSS)
                await expect(page.get_by_text("bad signature " + XSS)).to_have_count(1)
                assert await page.locator("main img, main script").count() == 0
                await shoot(page, "callbacks")

                await page.goto(f"{base}/ui/subscribers")
                await expect(page.locator(f"#subscriber-{sub}")).to_have_attribute(
                    "data-state", "active"
                )
                await page.locator(f"#subscriber-{sub}").get_by_role("button", name="Pause").click()
                await expect(page.locator(f"#subscriber-{sub}")).to_have_attribute(
                    "data-state", "paused"
                )
                await shoot(page, "subscribers")
                await page.goto(f"{base}/ui/")
                await expect(page.locator("#live-status")).to_have_text("live")
                await shoot(page, "overview")
                assert dialogs == [], f"a script ran: {dialogs}"
            finally:
                await browser.close()


async def test_dashboard_charts_in_chromium(tmp_path: Path) -> None:
    """The overview's and a subscriber's SVG charts render, fit 390 px, and run no script."""
    from receiver.clock import now_ms
    from tests.receiver.chart_seed import seed_history

    SHOTS.mkdir(parents=True, exist_ok=True)
    settings = Settings(db=str(tmp_path / "taskhook.db"), admin_token=ADMIN_TOKEN,
                        secret_key=SECRET_KEY, workers=False)  # fmt: skip
    app = build_app(settings)
    async with live_server(app) as base:
        db: Database = app.state.runtime.db
        sub = await seed_subscriber(db)
        await seed_history(db, sub, now_ms(), hours=170)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                errors: list[str] = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                await log_in(page, base)
                for path, name, count in (
                    ("/ui/", "charts-overview", 3),
                    ("/ui/?window=7d", "charts-overview-7d", 3),
                    (f"/ui/subscribers/{sub}", "charts-subscriber", 2),
                ):
                    await page.goto(f"{base}{path}")
                    charts = page.locator("svg.chart")
                    await expect(charts).to_have_count(count)
                    await expect(page.locator("svg.chart rect").first).to_be_visible()
                    await page.set_viewport_size({"width": 390, "height": 844})
                    fits = await page.evaluate(
                        "document.documentElement.scrollWidth <= window.innerWidth"
                    )
                    assert fits, f"{path} scrolls sideways at 390 px"
                    box = await charts.first.bounding_box()
                    assert box is not None and 250 <= box["width"] <= 390
                    await shoot(page, name)
                assert not [e for e in errors if "Content Security Policy" in e], errors
            finally:
                await browser.close()
