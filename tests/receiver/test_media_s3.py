"""The S3 store through obstore, against moto's S3 server started by the test."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from receiver.settings import Settings
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
from tests.support import free_port, live_server

moto_server = pytest.importorskip("moto.server")


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local S3 endpoint (moto in server mode) with an empty bucket `media`."""
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        assert httpx.put(f"{endpoint}/media").status_code == 200
        yield endpoint
    finally:
        server.stop()


async def test_s3_store_archives_and_presigns(
    settings: Settings, tmp_path: Any, s3_endpoint: str
) -> None:
    files = FileServer(sizes={"clip.mp4": 12 * 1024 * 1024 + 7})  # more than one part
    hook = Recorder()
    settings = media_settings(settings, tmp_path, media="s3://media/archive",
                              s3_endpoint_url=s3_endpoint)  # fmt: skip
    async with live_server(files.app()) as src, live_server(hook.app()) as sink:
        async with media_app(settings) as (client, runtime):
            await client.post("/api/subscribers", json={"url": f"{sink}/h", "kind": "webhook"})
            event = await succeed(runtime, {"video_urls": [f"{src}/files/clip.mp4"]})

            async def delivered() -> bool:
                return len(hook.received) >= 1

            await tick_until(runtime, delivered)
            files.deleted.add("clip.mp4")
            [media] = json.loads(hook.received[0].body)["data"]["result"]["media"]
            async with httpx.AsyncClient() as plain:
                got = await plain.get(media["url"])
            assert got.status_code == 200
            assert hashlib.sha256(got.content).hexdigest() == sha_of(
                "clip.mp4", files.sizes["clip.mp4"]
            )
            assert got.content == body_of("clip.mp4", files.sizes["clip.mp4"])
            assert got.headers["content-type"] == "video/mp4"
            key = f"archive/{event['data']['task_id']}/video-0.mp4"
            assert key in media["url"]
            worker = next(w for w in runtime.runner.workers if w.name == "media")
            assert await worker.purge(archived_before=2**62) == 1  # type: ignore[attr-defined]
            async with httpx.AsyncClient() as plain:
                assert (await plain.get(media["url"])).status_code == 404
    assert media["status"] == "archived" and media["bytes"] == files.sizes["clip.mp4"]


async def test_s3_upload_stops_at_the_size_cap(
    settings: Settings, tmp_path: Any, s3_endpoint: str
) -> None:
    files = FileServer(sizes={"big.mp4": 3 * 1024 * 1024}, send_length=False)
    settings = media_settings(settings, tmp_path, media="s3://media/archive",
                              s3_endpoint_url=s3_endpoint, media_max_mb=1)  # fmt: skip
    async with live_server(files.app()) as src, media_app(settings) as (_client, runtime):
        await succeed(runtime, {"video_urls": [f"{src}/files/big.mp4"]})

        async def settled() -> bool:
            row = await runtime.db.fetchone("SELECT state FROM media_files")
            return row is not None and row["state"] != "pending"

        await tick_until(runtime, settled)
        row = await runtime.db.fetchone("SELECT state, last_error FROM media_files")
    assert row is not None and row["state"] == "failed" and "larger than 1 MB" in row["last_error"]
    listing = httpx.get(f"{s3_endpoint}/media?list-type=2").text
    assert "big" not in listing and "video-0" not in listing
