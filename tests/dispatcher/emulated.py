"""taskhook and the provider emulator, both on real loopback HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from dispatcher.compose import build_app
from dispatcher.emulator.app import create_emulator_app
from dispatcher.emulator.config import EmulatorConfig
from receiver.settings import PROVIDERS, ProviderSettings, RateLimit, Settings
from tests.support import ADMIN_TOKEN, free_port, live_server, wait_for

URL = "https://files.example/clip.mp4"
IMG = "https://files.example/frame.png"
WAV = "https://files.example/speech.wav"
# one valid input for every model of every provider that the emulator serves
EVERY_MODEL: list[tuple[str, str, dict[str, Any]]] = [
    ("kie", "sora-2-characters", {"character_file_url": [URL]}),
    ("kie", "sora-2-text-to-video", {"prompt": "waves", "n_frames": "10"}),
    ("kie", "sora-2-image-to-video", {"prompt": "move", "image_urls": [IMG]}),
    ("kie", "sora-2-pro-text-to-video", {"prompt": "waves", "size": "high"}),
    ("kie", "sora-2-pro-image-to-video", {"prompt": "move", "image_urls": [IMG]}),
    ("foxapi", "sora-2", {"prompt": "waves", "duration": 4}),
    ("foxapi", "sora-2-pro", {"prompt": "waves", "resolution": "1080p"}),
    ("foxapi", "sora-2-character", {"video_url": URL, "name": "Al"}),
    ("foxapi", "creatify-aurora", {"image_url": IMG, "audio_url": WAV}),
    ("toapis", "sora-2", {"url": URL, "timestamps": "1,3"}),
    ("toapis", "sora-2-pro", {"prompt": "a cat surfs"}),  # with character_url: chaining tests
    ("toapis", "sora-2-vip", {"url": URL, "timestamps": "1,3"}),
]
CHARACTER_MODELS = {("kie", "sora-2-characters"), ("foxapi", "sora-2-character"),
                    ("toapis", "sora-2"), ("toapis", "sora-2-vip")}  # fmt: skip


def provider_settings(emulator_url: str) -> dict[str, ProviderSettings]:
    return {
        name: ProviderSettings(name, f"{emulator_url}/{name}", api_key=f"key-{name}",
                               rate_limit=RateLimit(100, 1.0))
        for name in PROVIDERS
    }  # fmt: skip


@asynccontextmanager
async def emulator(**config: Any) -> AsyncIterator[str]:
    async with live_server(create_emulator_app(EmulatorConfig(**config))) as url:
        yield url


@asynccontextmanager
async def taskhook(
    settings: Settings,
    emulator_url: str,
    *,
    callbacks: bool = False,
    port: int | None = None,
    foxapi_callback_models: frozenset[str] = frozenset(),
) -> AsyncIterator[httpx.AsyncClient]:
    """The complete app (build_app) on loopback; `callbacks` sets public_url to itself."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    providers = provider_settings(emulator_url)
    providers["foxapi"] = dataclasses.replace(
        providers["foxapi"], callback_models=foxapi_callback_models
    )
    tuned = settings.replace(providers=providers, public_url=base if callbacks else None)
    async with live_server(build_app(tuned), port=port):
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
            yield client


async def submit(client: httpx.AsyncClient, provider: str, model: str, task_input: Any,
                 **extra: Any) -> dict[str, Any]:  # fmt: skip
    response = await client.post(
        "/api/tasks", json={"provider": provider, "model": model, "input": task_input, **extra}
    )
    assert response.status_code == 202, response.text
    task: dict[str, Any] = response.json()
    return task


async def finished(client: httpx.AsyncClient, task_id: str, timeout_s: float = 15) -> Any:
    async def check() -> Any:
        task = (await client.get(f"/api/tasks/{task_id}")).json()
        return task if task["status"] not in ("submitted", "running") else None

    return await wait_for(check, timeout_s=timeout_s)


async def events_of(client: httpx.AsyncClient, task_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        await client.get("/api/events", params={"task_id": task_id})
    ).json()["items"]
    return items


async def emulator_stats(emulator_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        stats: dict[str, Any] = (await client.get(f"{emulator_url}/_emulator/stats")).json()
        return stats
