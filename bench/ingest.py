"""Ingest benchmark: signed kie callbacks acknowledged after a durable commit, side by side.

    python bench/ingest.py [--seconds 10] [--connections 64]

Targets, same load generator (wrk), same concurrency, same run, on each server stack
(`fast`: uvicorn on uvloop with httptools, taskhook's default; `plain`: asyncio with h11):
  bare      a bare Starlette app on uvicorn answering 200 (the stack's ceiling)
  naive     synchronous sqlite3 insert + commit per request (durable, the obvious way)
  taskhook  `taskhook serve` on SQLite: verify the HMAC, audit row + inbox row, group commit,
            answer 2xx only after commit; its workers run as in production
Each target is one uvicorn process; wrk runs in another. To show wrk is not the bottleneck the
script prints wrk's own CPU use per run (well under one core means it had headroom) and its rate
against a trivial asyncio server that answers without parsing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import free_port, kie_signature, start_taskhook, wait_listening

HERE = Path(__file__).resolve().parent
STACKS = ("fast", "plain")
TEMPLATE = (
    '{"code":200,"msg":"success","data":{"taskId":"%s","model":"sora-2-characters",'
    '"state":"success","resultJson":"{\\"character_id\\":\\"char_1\\"}","costTime":3}}'
)


def write_requests(path: Path, count: int) -> None:
    """One `taskId timestamp signature` line per callback, signed as kie documents."""
    ts = str(int(time.time()))
    run = os.urandom(4).hex()
    with path.open("w") as out:
        for i in range(count):
            task = f"bench_{run}_{i}"
            out.write(f"{task} {ts} {kie_signature(task, ts)}\n")


def run_wrk(port: int, requests_file: Path, args: argparse.Namespace) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
        "-s", str(HERE / "ingest.lua"), f"http://127.0.0.1:{port}", "--",
        str(requests_file), str(args.threads), TEMPLATE,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = re.search(r"^RESULT (.*)$", out, re.M)
    if not match:
        raise SystemExit(f"wrk printed no result:\n{out}")
    result: dict[str, float] = json.loads(match[1])
    seconds = result["duration_us"] / 1e6
    result["rps"] = (result["requests"] - result["non2xx"]) / seconds
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    result["wrk_cpu_cores"] = cpu / seconds
    return result


def start(target: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    """`target` is `bare`, `naive` or `taskhook`, then `-fast` or `-plain` (the stack)."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    kind, stack = target.split("-")
    if kind == "bare":
        cmd = [sys.executable, "-m", "bench.apps.bare", "--port", str(port), "--stack", stack]
    elif kind == "naive":
        cmd = [sys.executable, "-m", "bench.apps.naive", "--port", str(port), "--db",
               str(tmp / f"{target}.db")]  # fmt: skip
    else:
        return start_taskhook(port, tmp / f"{target}.db", TASKHOOK_SERVER_STACK=stack)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def durable_rows(target: str, tmp: Path) -> int | None:
    if target.startswith("bare"):
        return None
    name = f"{target}.db"
    with sqlite3.connect(tmp / name) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM inbox").fetchone()[0])


def measure(target: str, tmp: Path, requests_file: Path, args: argparse.Namespace) -> dict:
    port = free_port()
    proc = start(target, port, tmp)
    try:
        wait_listening(port, proc)
        time.sleep(1.0)
        result = run_wrk(port, requests_file, args)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result["rows"] = durable_rows(target, tmp)
    return result


async def _trivial_server(port: int, stop: asyncio.Event) -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                if length:
                    await reader.readexactly(int(length[1]))
                writer.write(reply)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await stop.wait()


def generator_ceiling(requests_file: Path, args: argparse.Namespace) -> dict:
    """wrk against an asyncio server that answers without any HTTP framework."""
    port = free_port()
    code = (
        f"import asyncio,sys;sys.path.insert(0,{str(HERE.parent)!r});"
        f"from bench.ingest import _trivial_server;"
        f"asyncio.run(_trivial_server({port}, asyncio.Event()))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        wait_listening(port, proc)
        return run_wrk(port, requests_file, args)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def report(results: dict[str, dict], ceiling: dict) -> None:
    print(f"\n{'target':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} "
          f"{'durable rows':>13} {'wrk cores':>9}")  # fmt: skip
    for name, r in [*results.items(), ("(wrk max)", ceiling)]:
        rows = "-" if r.get("rows") is None else str(r["rows"])
        print(f"{name:<10} {r['rps']:>9.0f} {r['p50_us'] / 1000:>8.2f} {r['p99_us'] / 1000:>8.2f} "
              f"{r['non2xx']:>8d} {rows:>13} {r['wrk_cpu_cores']:>9.2f}")  # fmt: skip
    for stack in STACKS:
        th, bare = results.get(f"taskhook-{stack}"), results.get(f"bare-{stack}")
        naive = results.get(f"naive-{stack}")
        if th is None or bare is None:
            continue
        print(f"\n[{stack}] taskhook / bare  = {th['rps'] / bare['rps']:.2f}  (goal >= 0.50)")
        if naive is not None:
            print(f"[{stack}] taskhook / naive = {th['rps'] / naive['rps']:.2f}")
        ok = th["rows"] is not None and th["rows"] >= th["requests"] - th["non2xx"]
        print(
            f"[{stack}] durability: every 2xx has its inbox row: {'yes' if ok else 'NO'} "
            f"({th['rows']} rows for {th['requests'] - th['non2xx']:.0f} acknowledged)"
        )
    fast, plain = results.get("taskhook-fast"), results.get("taskhook-plain")
    if fast and plain:
        print(f"\ntaskhook fast / plain stack = {fast['rps'] / plain['rps']:.2f}")
    bare = results.get("bare-fast") or results.get("bare-plain")
    if bare:
        ratio = ceiling["rps"] / bare["rps"]
        print(f"wrk max / bare   = {ratio:.2f}  (> 1: the generator is not the limit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--targets",
        default=",".join(f"{t}-{s}" for s in STACKS for t in ("bare", "taskhook")) + ",naive-plain",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/ingest.py needs wrk: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        requests_file = tmp / "requests.txt"
        write_requests(requests_file, 400_000)
        results = {t: measure(t, tmp, requests_file, args) for t in args.targets.split(",")}
        ceiling = generator_ceiling(requests_file, args)
        report(results, ceiling)


if __name__ == "__main__":
    main()
