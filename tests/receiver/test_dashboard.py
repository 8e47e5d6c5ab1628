from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette

from receiver.app import create_app
from receiver.clock import now_ms
from receiver.dashboard.dashboard_part import DashboardPart
from receiver.dashboard.session import COOKIE_NAME, new_cookie_value
from receiver.db import Database
from receiver.fanout.fanout_part import FanoutPart
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
from tests.support import ADMIN_TOKEN, app_client

PAGES = ("/ui/", "/ui/tasks", "/ui/events", "/ui/subscribers", "/ui/callbacks")


def dashboard_app(settings: Settings) -> Starlette:
    return create_app(settings, [DashboardPart()])


@asynccontextmanager
async def logged_in(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    """A client holding a dashboard session (no bearer header) and the app's database."""
    app = dashboard_app(settings)
    async with app_client(app, token=None) as client:
        answer = await client.post("/ui/login", data={"token": ADMIN_TOKEN, "next": "/ui/tasks"})
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/tasks"
        yield client, app.state.runtime.db


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def test_every_page_requires_a_session(settings: Settings) -> None:
    async with app_client(dashboard_app(settings), token=None) as client:
        for page in PAGES:
            answer = await client.get(page)
            assert answer.status_code == 303, page
            assert answer.headers["location"].startswith("/ui/login?next=")
        assert (await client.get("/ui/tasks?partial=1")).status_code == 401
        assert (await client.post("/ui/subscribers/sub_x/pause", data={})).status_code == 401
        # the bearer header does not open the dashboard, and the assets are public
        bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert (await client.get("/ui/tasks", headers=bearer)).status_code == 303
        assert (await client.get("/ui/static/dashboard.css")).status_code == 200
        form = await client.get("/ui/login")
        assert form.status_code == 200 and 'name="token"' in form.text


async def test_login_sets_a_strict_cookie_and_the_api_stays_bearer_only(
    settings: Settings,
) -> None:
    async with logged_in(settings) as (client, _db):
        page = await client.get("/ui/tasks")
        assert page.status_code == 200 and "<h1>Tasks</h1>" in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-frame-options"] == "DENY"
        # the session cookie is not an API credential
        assert (await client.get("/api/tasks")).status_code == 401
    app = dashboard_app(settings)
    async with app_client(app, token=None) as client:
        answer = await client.post("/ui/login", data={"token": ADMIN_TOKEN})
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE_NAME}=") and ADMIN_TOKEN not in cookie
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/ui"} <= flags
        assert "secure" not in flags  # plain http: a Secure cookie would never come back
    async with app_client(app, token=None) as client:
        client.base_url = httpx.URL("https://testserver")
        answer = await client.post("/ui/login", data={"token": ADMIN_TOKEN})
        assert "secure" in answer.headers["set-cookie"].lower()


async def test_wrong_forged_or_expired_credentials_are_refused(settings: Settings) -> None:
    async with app_client(dashboard_app(settings), token=None) as client:
        wrong = await client.post("/ui/login", data={"token": ADMIN_TOKEN + "x"})
        assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
        assert "not the admin token" in wrong.text
        empty = await client.post("/ui/login", data={})
        assert empty.status_code == 401
        await client.post("/ui/login", data={"token": ADMIN_TOKEN})
        good = client.cookies[COOKIE_NAME]
        client.cookies.clear()
        forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
        expired = new_cookie_value(ADMIN_TOKEN, now_s=now_ms() / 1000 - 13 * 3600)
        other_token = new_cookie_value("some-other-admin-token")
        unrecorded = new_cookie_value(ADMIN_TOKEN)  # well signed, but no session on the server
        for value in (forged, expired, other_token, unrecorded, "v1.99999999999.x.y", "garbage"):
            client.cookies.set(COOKIE_NAME, value, path="/ui")
            assert (await client.get("/ui/tasks")).status_code == 303, value
        client.cookies.set(COOKIE_NAME, good, path="/ui")
        assert (await client.get("/ui/tasks")).status_code == 200


async def test_login_redirects_only_inside_the_dashboard(settings: Settings) -> None:
    async with app_client(dashboard_app(settings), token=None) as client:
        for target, expected in (
            ("/ui/events?dead=1", "/ui/events?dead=1"),
            ("https://evil.example/", "/ui/"),
            ("//evil.example/ui", "/ui/"),
            ("/uix", "/ui/"),
            ("/api/tasks", "/ui/"),
        ):
            answer = await client.post("/ui/login", data={"token": ADMIN_TOKEN, "next": target})
            assert answer.headers["location"] == expected, target


async def test_logout_needs_csrf_and_ends_the_session(settings: Settings) -> None:
    async with logged_in(settings) as (client, _db):
        page = (await client.get("/ui/")).text
        refused = await client.post("/ui/logout", data={})
        assert refused.status_code == 403
        answer = await client.post("/ui/logout", data={"csrf": csrf_of(page)})
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/login"
        assert (await client.get("/ui/")).status_code == 303


async def test_state_changes_without_the_csrf_token_are_rejected(settings: Settings) -> None:
    async with logged_in(settings) as (client, db):
        sub = await seed_subscriber(db)
        url = f"/ui/subscribers/{sub}/pause"
        async with app_client(dashboard_app(settings), token=None) as stranger:
            await stranger.post("/ui/login", data={"token": ADMIN_TOKEN})  # a second session
            foreign = csrf_of((await stranger.get("/ui/subscribers")).text)
        for form in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": foreign}):
            answer = await client.post(url, data=form)
            assert answer.status_code == 403, form
            assert "reload the page" in answer.text
        row = await db.fetchone("SELECT paused FROM subscribers WHERE id = ?", sub)
        assert row is not None and row["paused"] == 0


async def test_pause_and_resume(settings: Settings) -> None:
    async with logged_in(settings) as (client, db):
        sub = await seed_subscriber(db)
        page = await client.get("/ui/subscribers")
        assert "Pause" in page.text and "provider=kie" in page.text
        token = csrf_of(page.text)
        answer = await client.post(
            f"/ui/subscribers/{sub}/pause", data={"csrf": token, "next": "/ui/subscribers"}
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/subscribers"
        row = await db.fetchone("SELECT paused FROM subscribers WHERE id = ?", sub)
        assert row is not None and row["paused"] == 1
        page = await client.get("/ui/subscribers")
        assert f'id="subscriber-{sub}" data-state="paused"' in page.text and "Resume" in page.text
        await client.post(f"/ui/subscribers/{sub}/resume", data={"csrf": token})
        row = await db.fetchone("SELECT paused FROM subscribers WHERE id = ?", sub)
        assert row is not None and row["paused"] == 0
        missing = await client.post("/ui/subscribers/sub_nope/pause", data={"csrf": token})
        assert missing.status_code == 404 and "sub_nope" in missing.text


async def _toggle(client: httpx.AsyncClient, via: str, sub: str, *, paused: bool) -> None:
    if via == "api":
        answer = await client.patch(f"/api/subscribers/{sub}", json={"paused": paused})
        assert answer.status_code == 200, answer.text
        return
    token = csrf_of((await client.get("/ui/subscribers")).text)
    action = "pause" if paused else "resume"
    answer = await client.post(f"/ui/subscribers/{sub}/{action}", data={"csrf": token})
    assert answer.status_code == 303, answer.text


@pytest.mark.parametrize("via", ["dashboard", "api"])
async def test_pause_and_resume_restart_the_failing_clock_like_the_api(
    settings: Settings, via: str
) -> None:
    """Both paths apply the same rule: pausing or resuming forgets when failures began."""
    app = create_app(settings, [DashboardPart(), FanoutPart()])
    async with app_client(app) as client:
        login = await client.post("/ui/login", data={"token": ADMIN_TOKEN})
        assert login.status_code == 303
        db = app.state.runtime.db
        sub = await seed_subscriber(db)
        for paused in (True, False):
            await db.execute("UPDATE subscribers SET failing_since = ? WHERE id = ?", 1, sub)
            await _toggle(client, via, sub, paused=paused)
            row = await db.fetchone(
                "SELECT paused, failing_since FROM subscribers WHERE id = ?", sub
            )
            assert row is not None and (row["paused"], row["failing_since"]) == (int(paused), None)


async def test_replay_queues_a_new_pending_delivery(settings: Settings) -> None:
    async with logged_in(settings) as (client, db):
        task = await seed_task(db, status="succeeded")
        sub = await seed_subscriber(db)
        event = await seed_event(db, task)
        dead = await seed_delivery(db, event, sub, state="dead", attempts=3)
        page = await client.get("/ui/events")
        assert f'action="/ui/deliveries/{dead}/replay"' in page.text
        assert "3 attempts" in page.text and "12 ms" in page.text
        before = now_ms()
        answer = await client.post(
            f"/ui/deliveries/{dead}/replay", data={"csrf": csrf_of(page.text), "next": "/ui/events"}
        )
        assert answer.status_code == 303
        rows = await db.fetchall(
            "SELECT * FROM deliveries WHERE event_id = ? ORDER BY generation", event
        )
        assert [(r["generation"], r["state"]) for r in rows] == [(0, "dead"), (1, "pending")]
        assert rows[1]["subscriber_id"] == sub and before - 1000 <= rows[1]["due_at"] <= now_ms()
        assert answer.headers["location"] == f"/ui/events#delivery-{rows[1]['id']}"
        page = await client.get("/ui/events")
        assert f'id="delivery-{rows[1]["id"]}" data-state="pending"' in page.text
        only_dead = await client.get("/ui/events?dead=1")
        assert event in only_dead.text


async def test_provider_and_callback_html_is_shown_as_text(settings: Settings) -> None:
    async with logged_in(settings) as (client, db):
        task = await seed_task(db, status="running")
        await complete_task(
            db,
            task,
            {
                "video_urls": ["https://cdn.example/v.mp4", "javascript:alert(1)", XSS],
                "character_id": XSS,
                "character_name": XSS,
            },
        )
        error = json.dumps({"code": "x", "message": XSS})
        await db.execute("UPDATE tasks SET error = ? WHERE id = ?", error, task)
        sub = await seed_subscriber(db)
        await seed_delivery(db, await seed_event(db, task), sub)
        await seed_callback(db, task)
        for page in (f"/ui/tasks/{task}", "/ui/events", "/ui/callbacks", "/ui/tasks"):
            text = (await client.get(page)).text
            assert "<script>alert" not in text and "<img" not in text, page
            assert "&lt;img src=x onerror=alert(1)&gt;" in text, page
        detail = (await client.get(f"/ui/tasks/{task}")).text
        assert '<video controls preload="metadata" src="https://cdn.example/v.mp4">' in detail
        assert 'src="javascript:' not in detail and 'href="javascript:' not in detail
        assert detail.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # input, result, error
        callbacks = (await client.get("/ui/callbacks")).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in callbacks
        assert "bad signature &lt;script&gt;" in callbacks


async def test_task_detail_shows_result_timeline_and_expiry_note(settings: Settings) -> None:
    async with logged_in(settings) as (client, db):
        fresh = await seed_task(db)
        await complete_task(db, fresh, {"video_urls": ["https://cdn.example/fresh.mp4"]})
        old = await seed_task(db, model="sora-2-characters")
        result = {
            "character_id": "char_123",
            "character_name": "Ada",
            "video_urls": ["https://x/o.mp4"],
        }
        await complete_task(db, old, result, completed_at=now_ms() - 30 * 3600 * 1000)
        page = (await client.get(f"/ui/tasks/{fresh}")).text
        assert 'src="https://cdn.example/fresh.mp4"' in page and "expire" not in page
        assert "submitted" in page and "completion" in page  # the timeline
        assert "data-live-final" in page  # terminal: the page stops polling
        old_page = (await client.get(f"/ui/tasks/{old}")).text
        assert "expire after about 24 h" in old_page
        assert "char_123" in old_page and "Ada" in old_page
        running = await seed_task(db)
        live = (await client.get(f"/ui/tasks/{running}")).text
        assert f'data-live="/ui/tasks/{running}?partial=1"' in live
        missing = await client.get("/ui/tasks/tsk_nope")
        assert missing.status_code == 404 and "tsk_nope" in missing.text


async def test_task_table_filters_and_live_fragment(settings: Settings) -> None:
    async with logged_in(settings) as (client, db):
        running = await seed_task(db, status="running", progress=40)
        done = await seed_task(db, model="veo3")
        await complete_task(db, done, {"video_urls": []})
        page = (await client.get("/ui/tasks")).text
        assert running in page and done in page
        assert 'data-live="/ui/tasks?partial=1"' in page
        only = (await client.get("/ui/tasks", params={"status": "succeeded"})).text
        assert done in only and running not in only
        by_model = (await client.get("/ui/tasks", params={"model": "veo3"})).text
        assert done in by_model and running not in by_model
        fragment = await client.get("/ui/tasks", params={"partial": "1"})
        assert fragment.text.lstrip().startswith("<table") and "<html" not in fragment.text
        assert f'id="task-{running}" data-status="running"' in fragment.text
        assert 'value="40"' in fragment.text


async def test_overview_counts(settings: Settings) -> None:
    async with logged_in(settings) as (client, db):
        for _ in range(2):
            await seed_task(db, status="running")
        sub = await seed_subscriber(db)
        event = await seed_event(db, await seed_task(db, status="succeeded"))
        await seed_delivery(db, event, sub, state="dead")
        page = (await client.get("/ui/")).text
        running = re.search(r"s-running\">running</span></a><strong>(\d+)</strong>", page)
        assert running and running.group(1) == "2"
        dead = re.search(r"dead deliveries</a></span><strong class=\"bad\">(\d+)</strong>", page)
        assert dead and dead.group(1) == "1"
        assert re.search(r"tasks in flight</span><strong>2</strong>", page)


async def test_logout_revokes_the_session_on_the_server(settings: Settings) -> None:
    async with logged_in(settings) as (client, db):
        sub = await seed_subscriber(db)
        copied = client.cookies[COOKIE_NAME]
        page = (await client.get("/ui/subscribers")).text
        token = csrf_of(page)
        assert (await client.post("/ui/logout", data={"csrf": token})).status_code == 303
        async with app_client(dashboard_app(settings), token=None) as thief:
            thief.cookies.set(COOKIE_NAME, copied, path="/ui")
            assert (await thief.get("/ui/subscribers")).status_code == 303
            action = await thief.post(f"/ui/subscribers/{sub}/pause", data={"csrf": token})
            assert action.status_code == 401
        row = await db.fetchone("SELECT paused FROM subscribers WHERE id = ?", sub)
        assert row is not None and row["paused"] == 0


async def test_a_new_admin_token_ends_every_session(settings: Settings) -> None:
    async with logged_in(settings) as (client, _db):
        copied = client.cookies[COOKIE_NAME]
    rotated = settings.replace(admin_token="a-brand-new-admin-token-0123456789")
    async with app_client(dashboard_app(rotated), token=None) as client:
        client.cookies.set(COOKIE_NAME, copied, path="/ui")
        assert (await client.get("/ui/")).status_code == 303


async def test_the_cookie_is_secure_when_the_public_url_is_https(settings: Settings) -> None:
    app = dashboard_app(settings.replace(public_url="https://hooks.example.com"))
    async with app_client(app, token=None) as client:  # plain http behind a TLS proxy
        answer = await client.post("/ui/login", data={"token": ADMIN_TOKEN})
        assert answer.status_code == 303
        assert "secure" in answer.headers["set-cookie"].lower()
