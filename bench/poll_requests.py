"""Provider requests per polled task, for a task that takes 45 s at the provider.

Runs the provider emulator (delay 45 s, foxapi announcing estimated_time 45) and the full
taskhook app on loopback with default poll settings and no public URL (so everything is
polled), submits a few tasks per provider and reads the emulator's per-task request
counts from `/_emulator/stats`.

    .venv/bin/python -m bench.poll_requests [--delay 45] [--tasks 3]   (from the repo root)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from dispatcher.compose import build_app
from dispatcher.emulator.app import create_emulator_app
from dispatcher.emulator.config import EmulatorConfig
from receiver.settings import PROVIDERS, ProviderSettings, Settings
from tests.support import free_port, live_server

TOKEN = "bench-admin-token-0123456789"
INPUTS: dict[str, tuple[str, dict[str, Any]]] = {
    "foxapi": ("sora-2", {"prompt": "waves", "duration": 4}),
    "kie": ("sora-2-characters", {"character_file_url": ["https://files.example/me.mp4"]}),
    "toapis": ("sora-2", {"prompt": "waves"}),
}


async def run(delay_s: float, per_provider: int) -> dict[str, list[int]]:
    emu_app = create_emulator_app(EmulatorConfig(delay_s=delay_s, estimated_time_s=delay_s))
    with tempfile.TemporaryDirectory() as folder:
        async with live_server(emu_app) as emu:
            settings = Settings(
                db=str(Path(folder) / "bench.db"), admin_token=TOKEN, secret_key=TOKEN * 2,
                providers={p: ProviderSettings(p, f"{emu}/{p}", api_key="k") for p in PROVIDERS},
            )  # fmt: skip
            port = free_port()
            async with live_server(build_app(settings), port=port) as url:
                ids = await submit_all(url, per_provider)
                await wait_done(url, [i for _, i in ids], timeout_s=delay_s * 4 + 120)
            async with httpx.AsyncClient() as client:
                stats = (await client.get(f"{emu}/_emulator/stats")).json()
    counts: dict[str, list[int]] = {}
    for provider, ptid in ids:
        entry = stats["tasks"].get(ptid, {})
        counts.setdefault(provider, []).append(sum(v for k, v in entry.items() if k != "provider"))
    return counts


async def submit_all(url: str, per_provider: int) -> list[tuple[str, str]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    out: list[tuple[str, str]] = []
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        for provider, (model, task_input) in INPUTS.items():
            for _ in range(per_provider):
                body = {"provider": provider, "model": model, "input": task_input}
                task = (await client.post("/api/tasks", json=body)).json()
                out.append((provider, task["provider_task_id"]))
    return out


async def wait_done(url: str, ptids: list[str], timeout_s: float) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        while time.monotonic() < deadline:
            items = (await client.get("/api/tasks", params={"limit": 500})).json()["items"]
            if items and all(t["status"] not in ("submitted", "running") for t in items):
                bad = [t for t in items if t["status"] != "succeeded"]
                if bad:
                    raise SystemExit(f"tasks did not succeed: {bad}")
                return
            await asyncio.sleep(1.0)
    raise SystemExit("tasks did not finish in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--delay", type=float, default=45.0, help="seconds a task takes")
    parser.add_argument("--tasks", type=int, default=3, help="tasks per provider")
    args = parser.parse_args()
    started = time.monotonic()
    counts = asyncio.run(run(args.delay, args.tasks))
    print(f"provider requests per polled task (create + queries), task duration {args.delay:g} s")
    for provider, values in counts.items():
        note = "announces estimated_time" if provider == "foxapi" else "no estimate"
        print(f"  {provider:7s} mean {statistics.mean(values):.2f}  per task {values}  ({note})")
    print(f"(took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
