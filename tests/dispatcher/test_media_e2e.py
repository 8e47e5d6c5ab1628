"""End to end against the emulator: a foxapi video and a toapis character succeed, and the
archived copies in their events return exactly the emulator's bytes after it deleted them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from dispatcher.emulator.files import file_bytes
from receiver.settings import Settings
from tests.dispatcher.emulated import emulator, finished, submit, taskhook
from tests.receiver.fanout_support import Recorder
from tests.support import live_server, wait_for

TYPES = ["task.succeeded", "task.media_ready", "task.media_failed"]


def _media_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.replace(
        media="file",
        media_dir=str(tmp_path / "media"),
        media_wait_s=30.0,
        media_retry_base_s=0.05,
        delivery_retry_schedule_s=(0.0, 0.05),
    )


async def test_foxapi_video_and_toapis_character_are_archived(
    settings: Settings, tmp_path: Path
) -> None:
    hook = Recorder()
    async with live_server(hook.app()) as sink, emulator(delay_s=0.3, serve_files=True) as emu:
        async with taskhook(_media_settings(settings, tmp_path), emu) as client:
            made = await client.post(
                "/api/subscribers",
                json={"url": f"{sink}/hook", "kind": "webhook", "filter": {"type": TYPES}},
            )
            assert made.status_code == 201, made.text
            video = await submit(client, "foxapi", "sora-2", {"prompt": "waves", "duration": 4})
            character = await submit(
                client,
                "toapis",
                "sora-2",
                {"url": "https://files.example/clip.mp4", "timestamps": "1,3"},
            )
            for task in (video, character):
                assert (await finished(client, task["id"]))["status"] == "succeeded"
            await wait_for(lambda: len(hook.received) >= 2, timeout_s=20)
            events = [json.loads(r.body) for r in hook.received]
            assert sorted(e["type"] for e in events) == ["task.succeeded"] * 2
            async with httpx.AsyncClient() as plain:
                for event in events:
                    await _check_archived(client, plain, event)


async def _check_archived(
    client: httpx.AsyncClient, plain: httpx.AsyncClient, event: dict[str, Any]
) -> None:
    media = event["data"]["result"]["media"]
    names = [m["name"] for m in media]
    if event["data"]["provider"] == "foxapi":
        assert names == ["video-0.mp4"]
    else:  # the character's profile picture (image_urls once results carry them)
        assert len(names) == 1 and names[0].endswith(".webp")
    assert media and all(m["status"] == "archived" for m in media)
    for m in media:
        source = urlsplit(m["source_url"])
        assert (await plain.delete(m["source_url"])).status_code == 204
        assert (await plain.get(m["source_url"])).status_code == 404  # the provider's copy is gone
        expected = file_bytes(source.path.split("/_emulator/files/", 1)[1])
        link = urlsplit(m["url"])
        got = await client.get(f"{link.path}?{link.query}")
        assert got.status_code == 200 and got.content == expected
        assert hashlib.sha256(got.content).hexdigest() == m["sha256"] and m["bytes"] == len(
            expected
        )
