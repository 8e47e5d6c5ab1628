"""Crash recovery benchmark: kill -9 under a burst of callbacks, then time the catch-up.

    .venv/bin/python bench/crash.py [--callbacks 300] [--kill-after 150] [--query-delay 0.1]

The emulator (recordInfo answering after `--query-delay`), one webhook subscriber and
`taskhook serve` (SQLite, default settings, confirming each callback) run as separate
processes. The bench sends `--callbacks` signed kie callbacks at concurrency 32 and
kills taskhook with SIGKILL once `--kill-after` of them were acknowledged, while the
rest are still arriving and the acknowledged ones are mid-confirmation or mid-delivery
(their rows leased by the dead process). It restarts taskhook on the same database and
measures the time from the restart until every acknowledged callback's task has been
delivered to the subscriber. Goal: within 15 s.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import ADMIN_TOKEN, free_port, kie_callback, machine_load, start_taskhook
from bench.common import wait_listening as wait_up
from bench.drain import create_tasks, start_emulator
from bench.fanout import start_subscribers

GOAL_S = 15.0


async def delivered_tasks(client: httpx.AsyncClient, hook: str) -> set[str]:
    data = (await client.get(f"{hook.rsplit('/', 1)[0]}/_records")).json()
    return {str(r[2]) for r in data["records"]}


async def send_until_killed(client: httpx.AsyncClient, base: str, task_ids: list[str],
                            kill_after: int, kill: asyncio.Event) -> set[str]:  # fmt: skip
    acked: set[str] = set()
    gate = asyncio.Semaphore(32)

    async def one(task_id: str) -> None:
        body, headers = kie_callback(task_id)
        async with gate:
            if kill.is_set():
                return
            try:
                got = await client.post(f"{base}/callbacks/kie", content=body, headers=headers)
            except httpx.HTTPError:
                return  # the server died under it: not acknowledged
        if got.status_code == 200:
            acked.add(task_id)
            if len(acked) >= kill_after:
                kill.set()

    await asyncio.gather(*(one(t) for t in task_ids))
    return acked


async def run(args: argparse.Namespace, tmp: Path) -> bool:
    emu_port, sub_port, port = free_port(), free_port(), free_port()
    emulator = start_emulator(emu_port, args.query_delay)
    subs = start_subscribers([sub_port])
    env = {"TASKHOOK_KIE_BASE_URL": f"http://127.0.0.1:{emu_port}/kie",
           "TASKHOOK_KIE_API_KEY": "bench", "TASKHOOK_KIE_CONFIRM_CALLBACKS": "1"}  # fmt: skip
    db = tmp / "crash.db"
    server = start_taskhook(port, db, **env)
    try:
        for p, proc in ((emu_port, emulator), (sub_port, subs), (port, server)):
            wait_up(p, proc)
        base, hook = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sub_port}/hook"
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            await client.post(f"{base}/api/subscribers", json={"url": hook, "kind": "webhook"},
                              headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})  # fmt: skip
            task_ids = await create_tasks(client, f"http://127.0.0.1:{emu_port}", args.callbacks)
            kill = asyncio.Event()
            sending = asyncio.create_task(
                send_until_killed(client, base, task_ids, args.kill_after, kill)
            )
            await kill.wait()
            server.send_signal(signal.SIGKILL)
            server.wait()
            acked = await sending
            before = await delivered_tasks(client, hook)
            restarted = time.monotonic()
            server = start_taskhook(port, db, **env)
            wait_up(port, server)
            missing = acked - before
            while missing and time.monotonic() - restarted < args.timeout:
                await asyncio.sleep(0.05)
                missing = acked - await delivered_tasks(client, hook)
            took = time.monotonic() - restarted
        early = len(before & acked)
        print(f"\n{len(acked)} callbacks acknowledged before the kill -9; {early} of them "
              f"delivered before it, {len(acked) - early} left to the restart")  # fmt: skip
        done = len(acked) - len(missing)
        print(f"after the restart: {done}/{len(acked)} acknowledged callbacks delivered "
              f"within {took:.2f} s (goal: all within {GOAL_S:.0f} s)")  # fmt: skip
        return not missing
    finally:
        for proc in (server, emulator, subs):
            proc.terminate()
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callbacks", type=int, default=300)
    parser.add_argument("--kill-after", type=int, default=150, help="acknowledged before kill")
    parser.add_argument("--query-delay", type=float, default=0.1, help="seconds per recordInfo")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        ok = asyncio.run(run(args, Path(tmpdir)))
    print(f"({machine_load()})")
    if not ok:
        raise SystemExit("FAILED: acknowledged callbacks were not delivered within --timeout")


if __name__ == "__main__":
    main()
