"""The media archive: result files copied into the file store, linked from the events."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from receiver.runtime import Runtime
from receiver.settings import Settings
from tests.dispatcher.test_cli import taskhook
from tests.receiver.fanout_support import Recorder
from tests.receiver.media_support import (
    FileServer,
    body_of,
    media_app,
    media_settings,
    sha_of,
    succeed,
    tick_until,
)
from tests.support import live_server

WANTED = ["task.succeeded", "task.media_ready", "task.media_failed"]


async def _subscribe(client: httpx.AsyncClient, url: str, types: list[str] = WANTED) -> None:
    answer = await client.post(
        "/api/subscribers", json={"url": url, "kind": "webhook", "filter": {"type": types}}
    )
    assert answer.status_code == 201, answer.text


def _bodies(recorder: Recorder) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in recorder.received]


def _local(url: str) -> str:
    """A link's path and query, to fetch through the in-process client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _delivered(runtime: Runtime, n: int) -> Any:
    async def check() -> bool:
        rows = await runtime.db.fetchall("SELECT state FROM deliveries")
        return len(rows) >= n and all(r["state"] == "delivered" for r in rows)

    return check


async def test_event_carries_archived_copies_that_outlive_the_provider(
    settings: Settings, tmp_path: Any
) -> None:
    files = FileServer(sizes={"clip.mp4": 300_000, "face.png": 5_000})
    hook = Recorder()
    async with live_server(files.app()) as src, live_server(hook.app()) as sink:
        async with media_app(media_settings(settings, tmp_path)) as (client, runtime):
            await _subscribe(client, f"{sink}/hook")
            result = {
                "video_urls": [f"{src}/files/clip.mp4"],
                "image_urls": [f"{src}/files/face.png"],
            }
            event = await succeed(runtime, result)
            await tick_until(runtime, _delivered(runtime, 1))
            files.deleted.update(files.sizes)  # the provider's copies are gone
            [sent] = _bodies(hook)
            assert sent["type"] == "task.succeeded" and sent["id"] == event["id"]
            media = sent["data"]["result"]["media"]
            assert [m["name"] for m in media] == ["video-0.mp4", "image-0.png"]
            assert [m["status"] for m in media] == ["archived", "archived"]
            assert media[0]["source_url"] == f"{src}/files/clip.mp4"
            assert media[0]["sha256"] == sha_of("clip.mp4", 300_000)
            assert (media[0]["bytes"], media[0]["content_type"]) == (300_000, "video/mp4")
            got = await client.get(_local(media[0]["url"]))
            assert got.status_code == 200 and got.headers["content-type"] == "video/mp4"
            assert hashlib.sha256(got.content).hexdigest() == media[0]["sha256"]
            assert got.content == body_of("clip.mp4", 300_000)
            part = await client.get(_local(media[0]["url"]), headers={"Range": "bytes=100-199"})
            assert part.status_code == 206 and part.content == got.content[100:200]
            tampered = media[0]["url"].replace("video-0.mp4", "image-0.png")
            assert (await client.get(_local(tampered))).status_code == 403
            fresh = await client.get(f"/api/tasks/{event['data']['task_id']}/media")
            assert [m["sha256"] for m in fresh.json()["items"]] == [m["sha256"] for m in media]
    types = [row["type"] for row in await _events(settings)]
    assert types == ["task.succeeded"]  # archived in time: no follow-up


async def _events(settings: Settings) -> list[dict[str, Any]]:
    from receiver.db import open_database

    db = await open_database(settings.db)
    try:
        return await db.fetchall("SELECT type, payload FROM events ORDER BY id")
    finally:
        await db.close()


async def test_three_failures_then_success_across_a_restart(
    settings: Settings, tmp_path: Any
) -> None:
    files = FileServer(sizes={"clip.mp4": 50_000}, fail_next=3)
    hook = Recorder()
    settings = media_settings(settings, tmp_path)
    # before the restart the backoff is long, so however slowly this machine ticks, the
    # first run makes exactly one attempt; the second run retries on the fast schedule
    patient = settings.replace(media_retry_base_s=60.0, media_retry_max_s=60.0)
    async with live_server(files.app()) as src, live_server(hook.app()) as sink:
        async with media_app(patient) as (client, runtime):
            await _subscribe(client, f"{sink}/hook")
            await succeed(runtime, {"video_urls": [f"{src}/files/clip.mp4"]})
            await tick_until(runtime, _delivered(runtime, 1))  # first attempt failed
            # the downtime outlasts the backoff: the retry is due when the app is back
            await runtime.db.execute("UPDATE media_files SET next_attempt_at = 0")
        assert files.requests == 1
        async with media_app(settings) as (client, runtime):  # a restart in between
            await tick_until(runtime, _delivered(runtime, 2))
            await _no_more_work(runtime)
    assert files.requests == 4
    first, second = _bodies(hook)
    assert first["type"] == "task.succeeded"
    assert [m["status"] for m in first["data"]["result"]["media"]] == ["pending"]
    assert first["data"]["result"]["video_urls"] == [f"{src}/files/clip.mp4"]
    assert second["type"] == "task.media_ready"
    assert second["data"]["task_id"] == first["data"]["task_id"]
    [archived] = second["data"]["result"]["media"]
    assert archived["status"] == "archived" and archived["sha256"] == sha_of("clip.mp4", 50_000)
    assert [row["type"] for row in await _events(settings)] == [
        "task.succeeded", "task.media_ready",
    ]  # fmt: skip


async def _no_more_work(runtime: Runtime) -> None:
    for _ in range(3):
        counts = await runtime.runner.tick()
        assert counts.get("media", 0) == 0


@pytest.mark.parametrize("send_length", [True, False], ids=["announced", "mid-stream"])
async def test_too_large_fails_for_good_with_media_failed(
    settings: Settings, tmp_path: Any, send_length: bool
) -> None:
    files = FileServer(sizes={"big.mp4": 2 * 1024 * 1024 + 1}, send_length=send_length)
    hook = Recorder()
    settings = media_settings(settings, tmp_path, media_max_mb=2)
    async with live_server(files.app()) as src, live_server(hook.app()) as sink:
        async with media_app(settings) as (client, runtime):
            await _subscribe(client, f"{sink}/hook")
            await succeed(runtime, {"video_urls": [f"{src}/files/big.mp4"]})
            await tick_until(runtime, _delivered(runtime, 2))
            await _no_more_work(runtime)
    first, second = _bodies(hook)
    assert first["type"] == "task.succeeded"
    assert second["type"] == "task.media_failed"
    [failed] = second["data"]["result"]["media"]
    assert failed["status"] == "failed" and "larger than 2 MB" in failed["error"]
    assert files.requests == 1  # not retried
    assert not list((tmp_path / "media").rglob("*.part"))


async def test_followups_only_reach_subscribers_that_name_them(
    settings: Settings, tmp_path: Any
) -> None:
    files = FileServer(sizes={"clip.mp4": 1000}, fail_next=1)
    named, plain = Recorder(), Recorder()
    async with live_server(files.app()) as src, live_server(named.app()) as a, \
            live_server(plain.app()) as b:  # fmt: skip
        async with media_app(media_settings(settings, tmp_path)) as (client, runtime):
            await _subscribe(client, f"{a}/hook")
            answer = await client.post(
                "/api/subscribers", json={"url": f"{b}/hook", "kind": "webhook"}
            )
            assert answer.status_code == 201
            await succeed(runtime, {"video_urls": [f"{src}/files/clip.mp4"]})
            await tick_until(runtime, _delivered(runtime, 3))
    assert [b["type"] for b in _bodies(named)] == ["task.succeeded", "task.media_ready"]
    assert [b["type"] for b in _bodies(plain)] == ["task.succeeded"]


async def test_private_source_refused_without_the_relaxing_setting(
    settings: Settings, tmp_path: Any
) -> None:
    files = FileServer(sizes={"clip.mp4": 1000})
    settings = media_settings(settings, tmp_path, allow_private_subscribers=False)
    async with live_server(files.app()) as src:
        async with media_app(settings) as (_client, runtime):
            event = await succeed(runtime, {"video_urls": [f"{src}/files/clip.mp4"]})
            await tick_until(runtime, _followup_written(runtime))
            row = await runtime.db.fetchone("SELECT state, last_error FROM media_files")
    assert files.requests == 0
    assert row is not None and row["state"] == "failed" and "loopback" in row["last_error"]
    assert event["type"] == "task.succeeded"


def _followup_written(runtime: Runtime) -> Any:
    async def check() -> bool:
        row = await runtime.db.fetchone("SELECT followup_event_id FROM media_waits")
        return row is not None and row["followup_event_id"] is not None

    return check


async def test_retention_deletes_files_but_keeps_the_record(
    settings: Settings, tmp_path: Any
) -> None:
    files = FileServer(sizes={"clip.mp4": 1000})
    async with live_server(files.app()) as src:
        async with media_app(media_settings(settings, tmp_path)) as (client, runtime):
            event = await succeed(runtime, {"video_urls": [f"{src}/files/clip.mp4"]})
            task_id = event["data"]["task_id"]

            async def archived() -> bool:
                row = await runtime.db.fetchone("SELECT state FROM media_files")
                return row is not None and row["state"] == "archived"

            await tick_until(runtime, archived)
            [before] = (await client.get(f"/api/tasks/{task_id}/media")).json()["items"]
            worker = next(w for w in runtime.runner.workers if w.name == "media")
            assert await worker.purge(archived_before=2**62) == 1  # type: ignore[attr-defined]
            [after] = (await client.get(f"/api/tasks/{task_id}/media")).json()["items"]
            assert (await client.get(_local(before["url"]))).status_code == 404
    assert after["status"] == "deleted" and after["url"] is None
    assert after["sha256"] == before["sha256"] and after["bytes"] == 1000
    assert not (tmp_path / "media" / task_id / "video-0.mp4").exists()


async def test_a_slow_download_lets_task_succeeded_go_after_the_wait(
    settings: Settings, tmp_path: Any
) -> None:
    files = FileServer(sizes={"clip.mp4": 1000}, stall_s=1.0)
    hook = Recorder()
    settings = media_settings(settings, tmp_path, media_wait_s=0.2)
    async with live_server(files.app()) as src, live_server(hook.app()) as sink:
        async with media_app(settings) as (client, runtime):
            await _subscribe(client, f"{sink}/hook")
            await succeed(runtime, {"video_urls": [f"{src}/files/clip.mp4"]})
            await tick_until(runtime, _delivered(runtime, 2))
    by_type = {b["type"]: b for b in _bodies(hook)}
    assert sorted(by_type) == ["task.media_ready", "task.succeeded"] and len(hook.received) == 2
    assert by_type["task.succeeded"]["data"]["result"]["media"][0]["status"] == "pending"
    assert by_type["task.media_ready"]["data"]["result"]["media"][0]["status"] == "archived"


async def test_cli_media_prints_fresh_links(settings: Settings, tmp_path: Any) -> None:
    files = FileServer(sizes={"clip.mp4": 2000})
    settings = media_settings(settings, tmp_path)
    async with live_server(files.app()) as src:
        async with media_app(settings) as (client, runtime):
            event = await succeed(runtime, {"video_urls": [f"{src}/files/clip.mp4"]})
            await tick_until(runtime, _followup_or_released(runtime))
            task_id = event["data"]["task_id"]
            env = {"TASKHOOK_SECRET_KEY": str(settings.secret_key),
                   "TASKHOOK_MEDIA_DIR": str(settings.media_dir)}  # fmt: skip
            out = await asyncio.to_thread(
                taskhook, "media", task_id, "--json", "--db", settings.db, cwd=tmp_path, env=env
            )
            assert out.returncode == 0, out.stderr
            [item] = json.loads(out.stdout)
            got = await client.get(_local(item["url"]))
            assert got.content == body_of("clip.mp4", 2000)
            missing = await asyncio.to_thread(
                taskhook, "media", "tsk_nope", "--db", settings.db, cwd=tmp_path, env=env
            )
    assert missing.returncode == 1 and "no archived media" in missing.stderr


def _followup_or_released(runtime: Runtime) -> Any:
    async def check() -> bool:
        row = await runtime.db.fetchone("SELECT state FROM media_waits")
        return row is not None and row["state"] in ("released", "done")

    return check


async def test_dashboard_plays_the_archived_copy(settings: Settings, tmp_path: Any) -> None:
    from receiver.app import create_app
    from receiver.dashboard.collaborators import Collaborators
    from receiver.dashboard.dashboard_part import DashboardPart
    from receiver.fanout.fanout_part import FanoutPart
    from receiver.media.media_part import MediaPart
    from tests.support import ADMIN_TOKEN, app_client

    files = FileServer(sizes={"clip.mp4": 1500})
    fanout, media = FanoutPart(), MediaPart()
    dashboard = DashboardPart(Collaborators(media=media.archive, fanout=fanout.fanout))
    app = create_app(media_settings(settings, tmp_path), [dashboard, fanout, media])
    async with live_server(files.app()) as src, app_client(app, token=None) as client:
        runtime = app.state.runtime
        event = await succeed(runtime, {"video_urls": [f"{src}/files/clip.mp4"]})
        await tick_until(runtime, _followup_or_released(runtime))
        files.deleted.add("clip.mp4")
        await client.post("/ui/login", data={"token": ADMIN_TOKEN, "next": "/ui/tasks"})
        page = (await client.get(f"/ui/tasks/{event['data']['task_id']}")).text
        assert "Archived copies" in page
        [link] = [u for u in _srcs(page) if "/media/" in u]
        got = await client.get(_local(link.replace("&amp;", "&")))
    assert got.status_code == 200 and got.content == body_of("clip.mp4", 1500)


def _srcs(page: str) -> list[str]:
    import re

    return re.findall(r'<video controls preload="metadata" src="([^"]+)"', page)


async def test_a_crashed_workers_download_is_taken_over_after_its_lease(
    settings: Settings, tmp_path: Any
) -> None:
    from receiver.store import media as records

    files = FileServer(sizes={"clip.mp4": 4000})
    hook = Recorder()
    async with live_server(files.app()) as src, live_server(hook.app()) as sink:
        async with media_app(media_settings(settings, tmp_path)) as (client, runtime):
            await _subscribe(client, f"{sink}/hook")
            await succeed(runtime, {"video_urls": [f"{src}/files/clip.mp4"]})
            # a worker claims the file and dies before finishing (its lease runs out)
            [claimed] = await records.claim_due(runtime.db, "mw_dead", lease_s=0.3, limit=5)
            assert (await runtime.runner.tick()).get("media") == 0  # leased: not taken yet
            await tick_until(runtime, _delivered(runtime, 1))
            row = await runtime.db.fetchone("SELECT state, attempts FROM media_files")
    assert claimed["state"] == "pending" and row == {"state": "archived", "attempts": 2}
    [sent] = _bodies(hook)
    assert sent["type"] == "task.succeeded"
    assert sent["data"]["result"]["media"][0]["status"] == "archived"
