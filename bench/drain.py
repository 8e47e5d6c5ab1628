"""Drain benchmark: a burst of signed kie callbacks, from the first send to the last delivery.

    .venv/bin/python bench/drain.py [--callbacks 2000] [--query-delay 0.1] [--concurrency 32]

Processes: the provider emulator (every `recordInfo` read answers after `--query-delay`
seconds, a realistic internet round trip), one webhook subscriber (records arrivals), and
`taskhook serve` on SQLite with its default settings, its kie base URL pointed at the
emulator. The bench creates `--callbacks` finished kie tasks straight at the emulator
(as another system would), registers the subscriber, then sends one signed kie callback
per task to `POST /callbacks/kie` at `--concurrency` connections, and waits for every
delivery. The callbacks are sent by wrk (`bench/drain.lua`, each callback once) when it is
installed, so the sender is not the limit; otherwise by an httpx client in this process.

Two runs, side by side, each on a fresh database:
- `confirm`: as shipped: each callback is confirmed by a recordInfo read (100 ms each);
- `trust`: `TASKHOOK_KIE_CONFIRM_CALLBACKS=0`: no reads, the body is believed.
The figure is callbacks per second from the first send to the last delivery; the ratio
confirm / trust shows what the confirming reads cost. Peak RSS is taskhook's VmHWM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import (
    ADMIN_TOKEN,
    KIE_KEY,
    ROOT,
    cpu_seconds,
    free_port,
    kie_callback,
    kie_signature,
    machine_load,
    start_taskhook,
    wait_listening,
)
from bench.fanout import start_subscribers

HERE = Path(__file__).resolve().parent
GOAL_PER_S = 300.0
GOAL_RATIO = 0.8
GOAL_RSS_MIB = 150.0


@dataclass
class Figures:
    """What one run measured."""

    name: str
    callbacks: int
    delivered: int
    acked_s: float
    elapsed_s: float
    peak_rss_mib: float
    reads: int
    reads_in_flight: int
    cpu_cores: float

    @property
    def per_s(self) -> float:
        return self.delivered / self.elapsed_s if self.elapsed_s else 0.0


def start_emulator(port: int, query_delay_s: float) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "dispatcher.cli", "emulator", "--port", str(port), "--delay",
           "0", "--query-delay", str(query_delay_s), "--kie-webhook-key", KIE_KEY]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def bounded(count: int, limit: int, send: object) -> None:
    gate = asyncio.Semaphore(limit)

    async def one(i: int) -> None:
        async with gate:
            await send(i)  # type: ignore[operator]

    await asyncio.gather(*(one(i) for i in range(count)))


async def create_tasks(client: httpx.AsyncClient, emulator: str, n: int) -> list[str]:
    body = {
        "model": "sora-2-characters",
        "input": {"character_file_url": ["https://x.example/a.mp4"]},
    }
    ids: list[str] = []

    async def one(_i: int) -> None:
        answer = await client.post(
            f"{emulator}/kie/api/v1/jobs/createTask", json=body,
            headers={"Authorization": "Bearer bench"},
        )  # fmt: skip
        ids.append(str(answer.json()["data"]["taskId"]))

    await bounded(n, 32, one)
    return ids


async def arrivals(client: httpx.AsyncClient, hook: str) -> int:
    url = f"{hook.rsplit('/', 1)[0]}/_records"
    return int((await client.get(url, params={"count": 1})).json()["count"])


async def one_run(name: str, args: argparse.Namespace, tmp: Path, emulator: str,
                  hook: str, client: httpx.AsyncClient) -> Figures:  # fmt: skip
    await client.delete(f"{hook.rsplit('/', 1)[0]}/_records")
    stats0 = (await client.get(f"{emulator}/_emulator/stats")).json()
    port = free_port()
    env = {"TASKHOOK_KIE_BASE_URL": f"{emulator}/kie", "TASKHOOK_KIE_API_KEY": "bench",
           "TASKHOOK_KIE_CONFIRM_CALLBACKS": "1" if name == "confirm" else "0"}  # fmt: skip
    server = start_taskhook(port, tmp / f"drain-{name}.db", **env)
    try:
        wait_listening(port, server)
        base = f"http://127.0.0.1:{port}"
        answer = await client.post(
            f"{base}/api/subscribers", json={"url": hook, "kind": "webhook"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )  # fmt: skip
        if answer.status_code != 201:
            raise SystemExit(f"registering the subscriber failed: {answer.text[:300]}")
        task_ids = await create_tasks(client, emulator, args.callbacks)
        cpu0 = cpu_seconds(server.pid)
        started = time.monotonic()
        sender = asyncio.create_task(send_all(client, base, port, task_ids, args, tmp))
        deadline = started + args.timeout
        delivered = 0
        while time.monotonic() < deadline:
            delivered = await arrivals(client, hook)
            if delivered >= len(task_ids):
                break
            await asyncio.sleep(0.02)
        acked = await sender
        elapsed = time.monotonic() - started
        cpu = (cpu_seconds(server.pid) - cpu0) / elapsed
        stats = (await client.get(f"{emulator}/_emulator/stats")).json()
        reads = stats["requests"].get("kie", {}).get("query", 0) - stats0["requests"].get(
            "kie", {}
        ).get("query", 0)
        peak = stats.get("max_in_flight", {}).get("query", 0)
        return Figures(name, len(task_ids), delivered, acked, elapsed, peak_rss_mib(server.pid),
                       reads, peak, cpu)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)


async def send_all(client: httpx.AsyncClient, base: str, port: int, task_ids: list[str],
                   args: argparse.Namespace, tmp: Path) -> float:  # fmt: skip
    """Send every callback once; seconds until the last was answered 200."""
    started = time.monotonic()
    if shutil.which("wrk"):
        await send_with_wrk(port, task_ids, args.concurrency, tmp)
    else:
        await send_with_httpx(client, base, task_ids, args.concurrency)
    return time.monotonic() - started


async def send_with_wrk(port: int, task_ids: list[str], connections: int, tmp: Path) -> None:
    """Each callback once, from wrk (a C load generator: the sender is not the limit)."""
    ts = str(int(time.time()))
    lines = tmp / "callbacks.txt"
    lines.write_text("".join(f"{t} {ts} {kie_signature(t, ts)}\n" for t in task_ids))
    template = ('{"code":200,"msg":"success","data":{"taskId":"%s","model":"sora-2-characters",'
                '"state":"success","resultJson":"{\\"character_id\\":\\"char_1\\"}"}}')  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{connections}", "-d300s", "-s", str(HERE / "drain.lua"),
        f"http://127.0.0.1:{port}", "--", str(lines), "1", template,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        said = (await proc.stderr.readline()).decode().split()
    finally:
        proc.terminate()
        await proc.wait()
    if said[:1] != ["ACKED"] or int(said[1]) != len(task_ids):
        raise SystemExit(f"not every callback was answered 200 (wrk said {said})")


async def send_with_httpx(
    client: httpx.AsyncClient, base: str, task_ids: list[str], concurrency: int
) -> None:
    async def send(i: int) -> None:
        body, headers = kie_callback(task_ids[i])
        got = await client.post(f"{base}/callbacks/kie", content=body, headers=headers)
        if got.status_code != 200:
            raise SystemExit(f"callback refused: {got.status_code} {got.text[:200]}")

    await bounded(len(task_ids), concurrency, send)


def show(f: Figures) -> None:
    print(
        f"  {f.name:<8} {f.per_s:7.0f} callbacks/s end to end  ({f.delivered}/{f.callbacks} "
        f"delivered in {f.elapsed_s:.2f} s; all acknowledged after {f.acked_s:.2f} s)\n"
        f"  {'':<8} peak RSS {f.peak_rss_mib:.0f} MiB  taskhook CPU {f.cpu_cores:.2f} cores  "
        f"recordInfo reads {f.reads} (peak in flight so far {f.reads_in_flight})"
    )


async def run(args: argparse.Namespace, tmp: Path) -> bool:
    emu_port, sub_port = free_port(), free_port()
    emulator = start_emulator(emu_port, args.query_delay)
    subs = start_subscribers([sub_port])
    try:
        wait_listening(emu_port, emulator)
        wait_listening(sub_port, subs)
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            emu, hook = f"http://127.0.0.1:{emu_port}", f"http://127.0.0.1:{sub_port}/hook"
            print(f"confirm run ... ({machine_load()})", flush=True)
            confirm = await one_run("confirm", args, tmp, emu, hook, client)
            print(f"trust run ... ({machine_load()})", flush=True)
            trust = await one_run("trust", args, tmp, emu, hook, client)
        return report(confirm, trust, args)
    finally:
        for proc in (emulator, subs):
            proc.terminate()
            proc.wait(timeout=30)


def report(confirm: Figures, trust: Figures, args: argparse.Namespace) -> bool:
    print(f"\n{args.callbacks} signed kie callbacks, recordInfo answering after "
          f"{args.query_delay * 1000:.0f} ms, one webhook subscriber, sent at concurrency "
          f"{args.concurrency}")  # fmt: skip
    show(confirm)
    show(trust)
    ratio = confirm.per_s / trust.per_s if trust.per_s else 0.0
    print(f"\n  confirm: {confirm.per_s:.0f}/s (goal >= {GOAL_PER_S:.0f}/s)   "
          f"confirm / trust = {ratio:.2f} (goal >= {GOAL_RATIO})   "
          f"peak RSS {confirm.peak_rss_mib:.0f} MiB (goal < {GOAL_RSS_MIB:.0f})")  # fmt: skip
    return all(f.delivered == f.callbacks for f in (confirm, trust))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callbacks", type=int, default=2000)
    parser.add_argument("--query-delay", type=float, default=0.1, help="seconds per recordInfo")
    parser.add_argument("--concurrency", type=int, default=32, help="callbacks sent at once")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up after (s)")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmpdir:
        ok = asyncio.run(run(args, Path(tmpdir)))
    print(f"\n(took {time.monotonic() - started:.0f} s; {machine_load()})")
    if not ok:
        raise SystemExit("FAILED: some callbacks were not delivered within --timeout")


if __name__ == "__main__":
    main()
