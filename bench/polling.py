"""Polling benchmark: many in-flight polled tasks against the provider emulator.

    .venv/bin/python bench/polling.py [--tasks 10000] [--delay 120] [--concurrency 32]

`taskhook emulator` (foxapi announces `estimated_time` = the delay) and `taskhook serve`
(SQLite, no public URL, so every task is polled; foxapi rate limit 2000/1) run as
subprocesses. The bench submits N foxapi `sora-2` tasks through `POST /api/tasks`, then
waits (reading the SQLite file read-only) until every task is terminal, sampling the
serve process's resident memory. It prints:

- provider requests per task (emulator `/_emulator/stats`) against the ideal of 2
  (1 create + 1 query at the announced time);
- peak resident memory against the idle process, and per in-flight task;
- the delay between a task finishing at the provider and its event: event created_at
  minus (provider create + delay). The create happened inside `POST /api/tasks`, between
  the moment the bench sent it and the `sent` history row, so both bounds are printed;
  p50/p99, and as a ratio to the poll bounds (poll_min_interval_s, poll_max_interval_s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import (
    ADMIN_TOKEN,
    ROOT,
    cpu_seconds,
    free_port,
    machine_load,
    percentile,
    rss_mib,
    start_taskhook,
    wait_listening,
)
from receiver.retry import DEFAULT_JITTER
from receiver.settings import Settings
from receiver.statuses import TERMINAL

TASK = {"provider": "foxapi", "model": "sora-2", "input": {"prompt": "waves", "duration": 4}}
IDEAL_REQUESTS = 2.0
FIRST_POLL_JITTER = DEFAULT_JITTER / 2  # receiver.retry.after_estimate_s


@dataclass
class Submitted:
    """What the bench submitted: task id -> wall-clock ms the POST was sent."""

    posted_ms: dict[str, int] = field(default_factory=dict)
    ptids: dict[str, str] = field(default_factory=dict)  # sent inside the POST
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Sampler(threading.Thread):
    """Samples the serve process's RSS and the number of tasks in flight, twice a second."""

    def __init__(self, pid: int, db: Path) -> None:
        super().__init__(daemon=True)
        self.pid, self.db = pid, db
        self.peak_rss = 0.0
        self.peak_in_flight = 0
        self.terminal = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.5):
            self.sample()

    def sample(self) -> None:
        try:
            self.peak_rss = max(self.peak_rss, rss_mib(self.pid))
        except OSError:
            return
        counts = count_tasks(self.db)
        in_flight = sum(n for status, n in counts.items() if status not in TERMINAL)
        self.peak_in_flight = max(self.peak_in_flight, in_flight)
        self.terminal = sum(n for status, n in counts.items() if status in TERMINAL)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


def read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def count_tasks(db: Path) -> dict[str, int]:
    try:
        with read_only(db) as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall()
    except sqlite3.Error:
        return {}
    return {str(status): int(n) for status, n in rows}


def start_emulator(port: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHOOK_")}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [
        sys.executable,
        "-m",
        "dispatcher.cli",
        "emulator",
        "--port",
        str(port),
        "--delay",
        str(args.delay),
        "--estimated-time",
        str(args.delay),
        "--seed",
        "7",
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def submit_all(url: str, args: argparse.Namespace) -> Submitted:
    """POST /api/tasks N times, at most `concurrency` at once."""
    out = Submitted()
    gate = asyncio.Semaphore(args.concurrency)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    limits = httpx.Limits(max_connections=args.concurrency)

    async def one(client: httpx.AsyncClient) -> None:
        async with gate:
            posted = int(time.time() * 1000)
            try:
                answer = await client.post("/api/tasks", json=TASK)
            except httpx.HTTPError as exc:
                out.errors.append(repr(exc))
                return
            if answer.status_code != 202:
                out.errors.append(f"{answer.status_code} {answer.text[:200]}")
                return
            body = answer.json()
            out.posted_ms[body["id"]] = posted
            if body.get("provider_task_id"):  # else the submitter worker sends it
                out.ptids[body["id"]] = body["provider_task_id"]

    started = time.monotonic()
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=60
    ) as client:
        await asyncio.gather(*(one(client) for _ in range(args.tasks)))
    out.seconds = time.monotonic() - started
    return out


def wait_terminal(sampler: Sampler, expected: int, timeout_s: float) -> float:
    """Seconds until `expected` tasks are terminal (or the timeout passed)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if sampler.terminal >= expected:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def finish_delays(db: Path, sub: Submitted, delay_s: float) -> tuple[list[float], list[float]]:
    """(lower, upper) bound per finished task of: event created_at - provider finish, in s."""
    query = (
        "SELECT t.id, e.created_at, h.at FROM tasks t "
        "JOIN events e ON e.terminal_task_id = t.id "
        "JOIN task_history h ON h.task_id = t.id AND h.kind = 'sent'"
    )
    with read_only(db) as conn:
        rows = conn.execute(query).fetchall()
    lower, upper = [], []
    for task_id, event_ms, sent_ms in rows:
        posted = sub.posted_ms.get(task_id)
        if posted is None:
            continue
        lower.append((event_ms - sent_ms) / 1000 - delay_s)
        if task_id in sub.ptids:  # sent inside the POST: created after `posted`
            upper.append((event_ms - posted) / 1000 - delay_s)
    return lower, upper


def provider_ids(db: Path) -> list[str]:
    """Provider task ids of every task that was sent (also by the submitter worker)."""
    with read_only(db) as conn:
        rows = conn.execute("SELECT provider_task_id FROM tasks WHERE provider_task_id IS NOT NULL")
        return [str(r[0]) for r in rows.fetchall()]


def statuses(db: Path) -> dict[str, int]:
    return count_tasks(db)


async def emulator_stats(emu: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60) as client:
        answer = await client.get(f"{emu}/_emulator/stats")
        answer.raise_for_status()
        stats: dict[str, Any] = answer.json()
        return stats


def requests_per_task(stats: dict[str, Any], ptids: list[str]) -> tuple[float, int]:
    """Mean provider requests (create + queries) per task, and the most any task needed."""
    counts = []
    for ptid in ptids:
        entry = stats["tasks"].get(ptid, {})
        counts.append(sum(v for k, v in entry.items() if k != "provider"))
    return (sum(counts) / len(counts) if counts else float("nan")), max(counts, default=0)


@dataclass
class Figures:
    sub: Submitted
    idle_rss: float
    sampler: Sampler
    waited_s: float
    finished: int
    stats: dict[str, Any]
    ptids: list[str]
    delays: tuple[list[float], list[float]]
    cpu_s: float
    counts: dict[str, int]


def report(f: Figures, args: argparse.Namespace) -> bool:
    settings = Settings()
    n_ok = len(f.sub.posted_ms)
    print(
        f"\nsubmitted {n_ok}/{args.tasks} foxapi sora-2 tasks in {f.sub.seconds:.1f} s "
        f"({n_ok / f.sub.seconds:.0f}/s, concurrency {args.concurrency}); "
        f"errors {len(f.sub.errors)}; sent by the submitter worker rather than inside the "
        f"POST: {n_ok - len(f.sub.ptids)}"
    )
    for err in f.sub.errors[:3]:
        print(f"  e.g. {err}")
    print(f"peak in flight (submitted or running at once): {f.sampler.peak_in_flight}")
    print(f"terminal: {f.finished}/{n_ok} after {f.waited_s:.0f} s more; statuses {f.counts}")
    mean, most = requests_per_task(f.stats, f.ptids)
    print(
        f"\nprovider requests per task: {mean:.3f} (most for one task: {most}); ideal "
        f"{IDEAL_REQUESTS:g} (1 create + 1 query) -> ratio {mean / IDEAL_REQUESTS:.3f}"
    )
    print(f"  emulator totals: {f.stats['requests']}")
    peak, idle = f.sampler.peak_rss, f.idle_rss
    per_task_kib = (peak - idle) * 1024 / max(f.sampler.peak_in_flight, 1)
    print(
        f"\nresident memory of taskhook serve: idle {idle:.1f} MiB, peak {peak:.1f} MiB "
        f"-> peak / idle {peak / idle:.2f}, +{peak - idle:.1f} MiB, "
        f"{per_task_kib:.2f} KiB per in-flight task"
    )
    lower, upper = f.delays
    lo, hi = settings.poll_min_interval_s, settings.poll_max_interval_s
    window = args.delay * FIRST_POLL_JITTER
    print(
        f"\nprovider finish -> event delay ({len(lower)} tasks; create time bounded by "
        f"the sent row (lower) and the POST (upper)):"
    )
    for name, values in (("lower", lower), ("upper", upper)):
        p50, p99 = percentile(values, 50), percentile(values, 99)
        print(
            f"  {name}: p50 {p50:6.2f} s  p99 {p99:6.2f} s  max {max(values, default=0):6.2f} s"
            f"  | p99 / poll_min {p99 / lo:.2f}  p99 / poll_max {p99 / hi:.3f}"
            f"  p99 / jitter window {p99 / window:.2f}"
        )
    print(
        f"  (the first poll is scheduled at the announced time + 0-{FIRST_POLL_JITTER:.0%}: "
        f"a jitter window of {window:.1f} s here; poll bounds {lo:g} s / {hi:g} s)"
    )
    print(f"\ntaskhook serve used {f.cpu_s:.0f} CPU seconds in all")
    return not f.sub.errors and f.finished >= n_ok > 0


async def measure(args: argparse.Namespace, tmp: Path) -> bool:
    emu_port, port, db = free_port(), free_port(), tmp / "polling.db"
    emulator = start_emulator(emu_port, args)
    emu = f"http://127.0.0.1:{emu_port}"
    server = start_taskhook(
        port,
        db,
        TASKHOOK_FOXAPI_BASE_URL=f"{emu}/foxapi",
        TASKHOOK_FOXAPI_API_KEY="bench-key",
        TASKHOOK_FOXAPI_RATE_LIMIT="2000/1",
        TASKHOOK_FOXAPI_CONCURRENCY=str(args.provider_concurrency),
    )
    sampler = Sampler(server.pid, db)
    try:
        wait_listening(emu_port, emulator)
        wait_listening(port, server)
        await asyncio.sleep(2.0)
        idle_rss = rss_mib(server.pid)
        sampler.start()
        print(f"submitting {args.tasks} tasks ... ({machine_load()})", flush=True)
        sub = await submit_all(f"http://127.0.0.1:{port}", args)
        if not sub.posted_ms:
            raise SystemExit(f"no task was accepted; first errors: {sub.errors[:3]}")
        accepted = len(sub.posted_ms)
        print(f"waiting for {accepted} tasks to end ... ({machine_load()})", flush=True)
        waited = await asyncio.to_thread(wait_terminal, sampler, accepted, args.timeout)
        sampler.stop()
        sampler.sample()
        if server.poll() is not None:
            raise SystemExit(f"taskhook serve exited with {server.returncode} during the run")
        figures = Figures(
            sub,
            idle_rss,
            sampler,
            waited,
            sampler.terminal,
            await emulator_stats(emu),
            provider_ids(db),
            finish_delays(db, sub, args.delay),
            cpu_seconds(server.pid),
            statuses(db),
        )
        return report(figures, args)
    finally:
        for proc in (server, emulator):
            proc.terminate()
        for proc in (server, emulator):
            proc.wait(timeout=60)
        sampler.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000, help="N tasks to submit")
    parser.add_argument(
        "--delay",
        type=float,
        default=120.0,
        help="seconds each task takes at the provider (and its estimate)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="submissions at once")
    parser.add_argument(
        "--provider-concurrency", type=int, default=64, help="TASKHOOK_FOXAPI_CONCURRENCY"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds to wait after submitting for every task to end",
    )
    parser.add_argument("--keep", type=Path, help="keep the database in this folder")
    args = parser.parse_args()
    if args.tasks < 1 or args.delay <= 0 or args.concurrency < 1:
        parser.error("--tasks, --delay and --concurrency must be positive")
    started = time.monotonic()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        ok = asyncio.run(measure(args, args.keep))
    else:
        with tempfile.TemporaryDirectory() as tmpdir:
            ok = asyncio.run(measure(args, Path(tmpdir)))
    print(f"\n(took {time.monotonic() - started:.0f} s; {machine_load()})")
    if not ok:
        raise SystemExit("FAILED: not every submitted task ended, or submissions failed (above)")


if __name__ == "__main__":
    main()
